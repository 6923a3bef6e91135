-- feedloop schema v5: the RLCF loop (Jain et al. 2023). Rollouts and evaluation programs reuse
-- v1's generations and sandbox batches (the "runs and passes" stage); rewards go to the shared
-- per-rollout reward table (source 'compiler-feedback'). This table holds the grounding
-- function's other stages per program, each with its bounded evidence. A stage not run is null.

-- What grounded a run: the static-check list and its version, the discriminator and its rubric.
create table rlcf_grounding_runs (
  eval_run_id   text not null references eval_runs(id) on delete cascade,
  stage         text not null check (stage in ('static_checks', 'discriminator')),
  spec          jsonb not null,
  created_at    timestamptz not null default now(),
  primary key (eval_run_id, stage)
);

create table rlcf_grounding (
  eval_run_id   text not null references eval_runs(id) on delete cascade,
  generation_id bigint not null references generations(id) on delete cascade,
  task_id       text not null,
  -- a. compiles (javac -Xlint:all in the sandbox's compile server)
  compile_outcome text not null check (compile_outcome in ('compiled', 'compile_error', 'timeout', 'infra_error')),
  compile       jsonb not null,
  -- b. static checks (rlcf-static-checks-v1), only on programs that compiled
  static_passed boolean,
  static_checks jsonb,
  -- d. the discriminator, only on programs that compiled: P(Yes), or unscorable (null p_yes)
  discriminator_status text check (discriminator_status in ('scored', 'unscorable')),
  p_yes         double precision check (p_yes >= 0 and p_yes <= 1),
  discriminator jsonb,
  -- the reward (activities/compiler-feedback/reward.ts), with its terms or the unscorable reason
  reward_status text check (reward_status in ('scored', 'unscorable')),
  reward        double precision,
  reward_detail jsonb,
  created_at    timestamptz not null default now(),
  primary key (eval_run_id, generation_id),
  check ((discriminator_status = 'scored') = (p_yes is not null) or discriminator_status is null),
  check ((reward_status = 'scored') = (reward is not null) or reward_status is null)
);
