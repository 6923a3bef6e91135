-- feedloop schema v8: the learning signal of a fine-tuning job, there even when pass@1 is 0
-- (the ILF paper's perplexity analysis): the training loss curve from the trainer protocol's
-- progress events, and the policy's mean per-token log-likelihood of a fixed held-out set
-- (MBPP_Test gold programs) and of the job's own training set, before and after the job.
-- Perplexity is exp(-mean log-likelihood). One row per training job that changed a policy.
create table learning_signals (
  job_id            text primary key,
  campaign_id       text not null,
  iteration         integer,
  kind              text not null,
  -- the model the job started from and the one it wrote (an onnx policy's export)
  policy_before     text not null,
  policy_after      text not null,
  -- [[step, loss], ...], one point per progress event (a resumed step: its last attempt's)
  loss_curve        jsonb not null default '[]',
  held_out_set      text,
  held_out_pairs    integer,
  held_out_tokens   integer,
  held_out_before   double precision,
  held_out_after    double precision,
  train_pairs       integer,
  train_tokens      integer,
  train_before      double precision,
  train_after       double precision,
  -- why the log-likelihoods are missing (e.g. a backend that cannot score programs)
  note              text,
  recorded_at       timestamptz not null default now()
);
create index learning_signals_campaign on learning_signals(campaign_id, iteration);
