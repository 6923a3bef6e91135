import type { ApiHub } from './apibench';

/** Python's s[start:end] on code points, with Python's handling of negative and out-of-range bounds. */
function pySlice(text: string, start: number, end: number): string {
  const codePoints = Array.from(text);
  const bound = (i: number): number => Math.min(codePoints.length, Math.max(0, i < 0 ? i + codePoints.length : i));
  return codePoints.slice(bound(start), bound(end)).join('');
}

/**
 * The API call a response names, extracted as Gorilla's evaluation scripts do: the text between
 * the first "api_call" marker and the next "api_provider", from two characters after its first
 * ':' up to its last ')' (or all but its last character when there is none). Without the marker,
 * the HuggingFace and TensorFlow Hub scripts use the whole response and the TorchHub script
 * gives up on it (null).
 */
export function extractApiCall(response: string, hub: ApiHub): string | null {
  const parts = response.split('api_call');
  if (parts.length === 1) return hub === 'torchhub' ? null : response;
  const section = parts[1]!.split('api_provider')[0]!;
  const codePoints = Array.from(section);
  const colon = codePoints.indexOf(':');
  const closing = codePoints.lastIndexOf(')');
  const start = colon === -1 ? 0 : colon;
  const end = closing === -1 ? -2 : closing;
  return pySlice(section, start + 2, end + 1);
}
