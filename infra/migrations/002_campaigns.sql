-- feedloop schema v2: campaigns and their iterations, feedback, refinements and training jobs.
-- Generations and sandbox results of a campaign reuse v1's tables: each sample set is an
-- eval_runs row whose id names the campaign, iteration and phase.

create table campaigns (
  id            text primary key,
  algorithm     text not null,
  config        jsonb not null,
  workflow_id   text not null,
  status        text not null default 'running',
  created_at    timestamptz not null default now(),
  finished_at   timestamptz
);

create table campaign_iterations (
  campaign_id   text not null references campaigns(id) on delete cascade,
  iteration     integer not null,
  workflow_id   text not null,
  run_id        text not null,
  policy        jsonb not null,
  status        text not null default 'running',
  phase         text not null default 'generate',
  counts        jsonb not null default '{}',
  metrics       jsonb,
  next_policy   jsonb,
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  primary key (campaign_id, iteration)
);

-- One row per failing program that needs feedback; human requests stay open until answered
-- or closed by the deadline.
create table feedback_requests (
  campaign_id   text not null,
  iteration     integer not null,
  request_id    text not null,
  generation_id bigint not null references generations(id) on delete cascade,
  task_id       text not null,
  source        text not null check (source in ('dataset', 'llm', 'human')),
  status        text not null default 'open' check (status in ('open', 'answered', 'closed', 'unanswerable')),
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, request_id),
  foreign key (campaign_id, iteration) references campaign_iterations(campaign_id, iteration) on delete cascade
);

create table feedback (
  campaign_id   text not null,
  iteration     integer not null,
  request_id    text not null,
  source        text not null,
  author        text,
  text          text not null,
  meta          jsonb not null default '{}',
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, request_id),
  foreign key (campaign_id, iteration, request_id) references feedback_requests(campaign_id, iteration, request_id) on delete cascade
);

create table refinements (
  campaign_id   text not null,
  iteration     integer not null,
  request_id    text not null,
  task_id       text not null,
  refiner       text not null,
  program       text not null,
  batch_id      text,
  idx           integer,
  kept          boolean,
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, request_id),
  foreign key (campaign_id, iteration, request_id) references feedback_requests(campaign_id, iteration, request_id) on delete cascade
);

create table training_jobs (
  id            text primary key,
  campaign_id   text not null,
  iteration     integer,
  kind          text not null check (kind in ('sft', 'reward_model', 'policy_update')),
  trainer       text not null,
  status        text not null default 'running',
  dataset_path  text,
  examples      integer not null default 0,
  checkpoint    text,
  steps         integer,
  metrics       jsonb,
  host          text,
  worker_task_queue text,
  note          text,
  started_at    timestamptz not null default now(),
  finished_at   timestamptz,
  duration_ms   double precision
);
create index training_jobs_campaign on training_jobs(campaign_id, iteration);
