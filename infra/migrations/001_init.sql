-- feedloop schema v1: evaluation runs, generations, sandbox batches and their results.
-- Workflows carry only the ids of these rows (claim check); the rows are the audit trail.

create table eval_runs (
  id            text primary key,
  workflow_id   text not null,
  run_id        text not null,
  dataset       text not null,
  split         text not null,
  policy        jsonb not null,
  samples_per_task integer not null,
  ks            integer[] not null,
  status        text not null default 'running',
  metrics       jsonb,
  created_at    timestamptz not null default now(),
  finished_at   timestamptz
);

create table generations (
  id            bigserial primary key,
  eval_run_id   text not null references eval_runs(id) on delete cascade,
  task_id       text not null,
  sample_index  integer not null,
  backend       text not null,
  program       text not null,
  meta          jsonb not null default '{}',
  created_at    timestamptz not null default now(),
  -- a retried generation activity rewrites the same rows instead of adding samples
  unique (eval_run_id, task_id, sample_index)
);

create table sandbox_batches (
  id            text primary key,
  owner         text not null,
  item_count    integer not null,
  status        text not null default 'pending',
  host          jsonb,
  created_at    timestamptz not null default now(),
  finished_at   timestamptz
);

create table sandbox_items (
  batch_id      text not null references sandbox_batches(id) on delete cascade,
  idx           integer not null,
  task_id       text not null,
  generation_id bigint references generations(id) on delete cascade,
  language      text not null check (language in ('python', 'java')),
  program       text not null,
  tests         text not null,
  limits        jsonb not null default '{}',
  primary key (batch_id, idx)
);

create table sandbox_results (
  batch_id      text not null,
  idx           integer not null,
  outcome       text not null check (outcome in ('passed', 'failed', 'runtime_error', 'compile_error',
                                                 'timeout', 'memory_limit', 'output_limit', 'infra_error')),
  duration_ms   double precision not null,
  cpu_ms        double precision,
  evidence      jsonb not null default '{}',
  attempt       integer not null default 1,
  created_at    timestamptz not null default now(),
  primary key (batch_id, idx),
  foreign key (batch_id, idx) references sandbox_items(batch_id, idx) on delete cascade
);
