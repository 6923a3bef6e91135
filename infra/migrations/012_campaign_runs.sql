-- feedloop schema v12: the runs of a campaign id. `campaign start --id X` makes run 1, whose
-- store key is X itself; `--resume` or `--new-run` on an ended X makes run N (N > 1) under the
-- same Temporal workflow id X, with the store key `X~N` for everything inside it (its campaigns
-- row, iteration rows, eval runs, jobs, child workflow ids), so the runs never mix. How each run
-- ended stays on its campaigns row (status, end_reason, finished_at). Run 1's record is written
-- when its workflow registers the campaign; a later run's by `campaign start` before it starts.
create table campaign_runs (
  campaign_id     text not null,
  run             integer not null,
  store_id        text not null unique references campaigns(id) on delete cascade,
  workflow_id     text not null,
  temporal_run_id text,
  started_how     text not null check (started_how in ('new', 'resume', 'new-run')),
  from_iteration  integer not null default 1,
  started_at      timestamptz not null default now(),
  primary key (campaign_id, run)
);
