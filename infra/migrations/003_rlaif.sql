-- feedloop schema v3: the RLAIF loop. Rollouts and evaluation answers reuse v1's generations
-- (one eval_runs row per sample set); campaigns, iterations and training jobs reuse v2's tables.
-- Unscorable feedback and rewards are stored as such (status 'unscorable', score null) and are
-- never used for training: a judge that could not answer is not a judge that said "bad".

-- The AI-feedback rubric of an iteration: judge, prompt version and texts, scoring rules.
create table ai_feedback_runs (
  campaign_id   text not null,
  iteration     integer not null,
  judge         jsonb not null,
  rubric        jsonb not null,
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration),
  foreign key (campaign_id, iteration) references campaign_iterations(campaign_id, iteration) on delete cascade
);

-- One row per rollout: the judge's answers and the score they make.
create table ai_feedback (
  campaign_id   text not null,
  iteration     integer not null,
  generation_id bigint not null references generations(id) on delete cascade,
  task_id       text not null,
  status        text not null check (status in ('scored', 'unscorable')),
  score         double precision check (score >= 0 and score <= 1),
  method        text check (method in ('logprobs', 'parsed', 'mixed')),
  answers       jsonb not null,
  rubric_version text not null,
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, generation_id),
  check ((status = 'scored') = (score is not null)),
  foreign key (campaign_id, iteration) references ai_feedback_runs(campaign_id, iteration) on delete cascade
);

-- The reward model's score of each rollout (the reward of the policy update).
create table rollout_rewards (
  campaign_id   text not null,
  iteration     integer not null,
  generation_id bigint not null references generations(id) on delete cascade,
  task_id       text not null,
  status        text not null check (status in ('scored', 'unscorable')),
  reward        double precision,
  reward_model  text not null,
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, generation_id),
  check ((status = 'scored') = (reward is not null)),
  foreign key (campaign_id, iteration) references campaign_iterations(campaign_id, iteration) on delete cascade
);

-- APIBench metrics of each evaluated answer: Gorilla AST match, CodeBLEU, executability.
create table apibench_scores (
  eval_run_id   text not null references eval_runs(id) on delete cascade,
  generation_id bigint not null references generations(id) on delete cascade,
  task_id       text not null,
  hub           text not null,
  ast_verdict   text not null check (ast_verdict in ('correct', 'wrong_api', 'hallucination')),
  codebleu      double precision not null,
  compiles      boolean not null,
  resolves      boolean not null,
  -- level 3 of executability (it runs) is not measured: always null, see activities/metrics/executability.ts
  runs          boolean,
  executable    boolean not null,
  detail        jsonb not null default '{}',
  created_at    timestamptz not null default now(),
  primary key (eval_run_id, generation_id)
);
