-- Where the GPU steps of an eval run ran and why (workflows/routing.ts StepPlacement): the
-- checkpoint's own host, or any GPU host after the host schedule-to-start timeout ran out.
alter table eval_runs add column if not exists placement jsonb;
