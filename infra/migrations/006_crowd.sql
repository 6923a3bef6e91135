-- feedloop schema v6: the cRLHF loop (crowd line labels). An iteration's annotation items are its
-- generated programs plus honeypots (gold solutions, mutated or untouched, with known line
-- labels); each item is assigned to k annotators; each accepted submission is one crowd_labels
-- row, written idempotently on its key, so a retried write neither loses nor doubles a label.

create table crowd_items (
  campaign_id   text not null,
  iteration     integer not null,
  item_id       text not null,
  task_id       text not null,
  dataset       text not null,
  prompt        text not null,
  program       text not null,
  line_count    integer not null check (line_count >= 1),
  -- the sandbox's output for the program, shown to annotators when the campaign says so
  test_output   text,
  is_honeypot   boolean not null,
  -- honeypots: one boolean per line, true = the line is known correct
  known_labels  jsonb,
  -- generated programs: the rollout the consensus reward belongs to
  generation_id bigint references generations(id) on delete cascade,
  -- honeypots: 'mutant' (lines changed so the tests fail) or 'gold' (untouched)
  honeypot_kind text check (honeypot_kind in ('mutant', 'gold')),
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, item_id),
  check (is_honeypot = (known_labels is not null)),
  foreign key (campaign_id, iteration) references campaign_iterations(campaign_id, iteration) on delete cascade
);

create table crowd_assignments (
  campaign_id   text not null,
  iteration     integer not null,
  item_id       text not null,
  annotator     text not null,
  created_at    timestamptz not null default now(),
  primary key (campaign_id, iteration, item_id, annotator),
  foreign key (campaign_id, iteration, item_id) references crowd_items(campaign_id, iteration, item_id) on delete cascade
);

create table crowd_labels (
  campaign_id   text not null,
  iteration     integer not null,
  item_id       text not null,
  annotator     text not null,
  -- one of 'correct' | 'wrong' per program line, in order
  labels        jsonb not null,
  -- notes keyed by 1-based line number
  notes         jsonb not null default '{}',
  submitted_at  timestamptz not null default now(),
  primary key (campaign_id, iteration, item_id, annotator),
  foreign key (campaign_id, iteration, item_id, annotator) references crowd_assignments(campaign_id, iteration, item_id, annotator) on delete cascade
);

-- Each annotator's reliability after an iteration's labels: the consensus estimate, the
-- honeypot-measured accuracy and, for a simulated crowd, the reliability it was set to.
create table crowd_reliability (
  campaign_id   text not null,
  iteration     integer not null,
  annotator     text not null,
  estimated     double precision not null,
  honeypot_lines integer not null,
  honeypot_accuracy double precision,
  set_reliability double precision,
  labelled_items integer not null,
  primary key (campaign_id, iteration, annotator),
  foreign key (campaign_id, iteration) references campaign_iterations(campaign_id, iteration) on delete cascade
);

-- Each item's aggregated line labels and, for generated programs, the consensus reward.
create table crowd_consensus (
  campaign_id   text not null,
  iteration     integer not null,
  item_id       text not null,
  method        text not null,
  rule          text not null,
  status        text not null check (status in ('scored', 'unscorable')),
  labels_count  integer not null,
  -- P(line correct) per line, and the majority vote per line (true = correct)
  line_posteriors jsonb,
  majority      jsonb,
  score         double precision check (score >= 0 and score <= 1),
  reason        text,
  primary key (campaign_id, iteration, item_id),
  check ((status = 'scored') = (score is not null)),
  foreign key (campaign_id, iteration, item_id) references crowd_items(campaign_id, iteration, item_id) on delete cascade
);
