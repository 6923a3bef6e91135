import { z } from 'zod';

/** The trainer's stdout: one JSON event per line (trainers/PROTOCOL.md). Other lines are log text. */

const metrics = z.record(z.string(), z.number());

export const trainerEventSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('progress'), step: z.int().min(0), totalSteps: z.int().min(0).optional(), loss: z.number().optional() }),
  z.object({ event: z.literal('checkpoint'), step: z.int().min(0), path: z.string().min(1) }),
  z.object({ event: z.literal('metrics'), step: z.int().min(0).optional(), metrics }),
  z.object({
    event: z.literal('done'),
    modelPath: z.string().min(1),
    step: z.int().min(0).optional(),
    metrics: metrics.optional(),
    /** a directory the onnx backend generates from: the ONNX export of modelPath (protocol 1, optional) */
    export: z.string().min(1).optional(),
  }),
  z.object({
    event: z.literal('error'),
    /** becomes the failure type, e.g. BadConfig */
    errorClass: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
    message: z.string(),
    /** false: a retry cannot help (bad config, bad data) */
    retryable: z.boolean().default(false),
  }),
]);

export type TrainerEvent = z.output<typeof trainerEventSchema>;

export type ParsedLine = { kind: 'event'; event: TrainerEvent } | { kind: 'text'; line: string } | { kind: 'invalid'; line: string; problem: string };

export function parseTrainerLine(line: string): ParsedLine {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return { kind: 'text', line };
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    return { kind: 'text', line };
  }
  if (!json || typeof json !== 'object' || !('event' in json)) return { kind: 'text', line };
  const parsed = trainerEventSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', line, problem: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
  return { kind: 'event', event: parsed.data };
}

/** Keeps the last `maxBytes` of a stream, cut at a line start: the tail failures carry. */
export class TailBuffer {
  private text = '';

  constructor(private readonly maxBytes = 4096) {}

  push(chunk: string): void {
    this.text += chunk;
    if (this.text.length > this.maxBytes * 2) this.trim();
  }

  private trim(): void {
    const cut = this.text.length - this.maxBytes;
    if (cut <= 0) return;
    const nl = this.text.indexOf('\n', cut);
    this.text = this.text.slice(nl >= 0 && nl < this.text.length - 1 ? nl + 1 : cut);
  }

  toString(): string {
    this.trim();
    return this.text;
  }
}
