-- feedloop schema v4: the per-rollout reward table serves every reward source, not only RLAIF's
-- reward model. `source` names the source (activities/rewards/sources.ts), `reason` says why an
-- unscorable reward has no number; `reward_model` keeps what scored it (a model, a rubric).
alter table rollout_rewards add column source text not null default 'reward-model';
alter table rollout_rewards add column reason text;
