-- feedloop schema v13: sandbox items by the generation they test. The loops look a program's
-- verdict up by its generation (cRLHF's simulated crowd and audit, ILF's feedback requests,
-- RLCF's audit); without this index each lookup read the whole table. With about 120,000 items
-- in a store, the planner, before fresh statistics, chose a nested loop over them for the
-- simulated crowd's query, which then took a minute of every annotation phase.
create index sandbox_items_generation on sandbox_items (generation_id);
