import { defineQuery, defineUpdate } from '@temporalio/workflow';

/**
 * The annotation protocol of a cRLHF iteration (Wong & Tan 2025): what the CLI, the annotator
 * web app and the simulated crowd send to the iteration workflow
 * (`campaignIds.iterationWorkflow(campaignId, n)` = `<campaignId>/iteration-<n>`) while it waits
 * in phase `annotate`, and what they get back. Workflow-safe: message definitions and types only.
 *
 * A submission is validated by the waiting iteration; a rejected one names its reason in one line
 * and records nothing. An accepted one is written to `crowd_labels` by an activity, idempotent on
 * (campaign, iteration, item, annotator).
 */

/** An annotator's verdict on one program line. */
export const LINE_LABELS = ['correct', 'wrong'] as const;
export type LineLabel = (typeof LINE_LABELS)[number];

/** The longest note an annotator may leave on one line. */
export const MAX_NOTE_CHARS = 500;

export interface LineLabelSubmission {
  annotator: string;
  itemId: string;
  /** one per program line, in order */
  labels: LineLabel[];
  /** optional notes, keyed by 1-based line number */
  notes?: Record<string, string>;
}

export interface LineLabelReceipt {
  itemId: string;
  accepted: true;
  /** this annotator's unanswered items in the iteration */
  remaining: number;
}

export interface AnnotationProgress {
  open: boolean;
  /** ISO time at which annotation closes */
  deadline: string;
  /** share of items that need their k labels before the deadline (0..1) */
  quorum: number;
  items: number;
  perAnnotator: Array<{ annotator: string; assigned: number; answered: number }>;
}

export interface DeadlineExtension {
  /** ISO, later than the current deadline */
  deadline: string;
  reason: string;
}

export interface AnnotationClose {
  reason: string;
}

export const submitLineLabelsUpdate = defineUpdate<LineLabelReceipt, [LineLabelSubmission]>('submitLineLabels');
export const extendAnnotationDeadlineUpdate = defineUpdate<AnnotationProgress, [DeadlineExtension]>('extendAnnotationDeadline');
export const closeAnnotationUpdate = defineUpdate<AnnotationProgress, [AnnotationClose]>('closeAnnotation');
export const annotationProgressQuery = defineQuery<AnnotationProgress>('annotationProgress');
