-- feedloop schema v11: how a campaign or an iteration ended, beside its status. The statuses a
-- run can end in: completed, stopped, failed, cancelled, terminated, timed_out; end_reason holds
-- the failure message (with the step it failed in) or Temporal's terminate reason. Written by
-- the workflow where it can, else reconciled from Temporal when status, audit or report read it.
alter table campaigns add column end_reason text;
alter table campaign_iterations add column end_reason text;
