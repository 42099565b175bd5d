/**
 * Server-Sent Events from a byte stream, parsed by `eventsource-parser` (the WHATWG rules: LF,
 * CR and CRLF line ends, comments, multi-line data, a BOM) behind one TextDecoder in streaming
 * mode. The rule it enforces: bytes are decoded to text only across the whole stream, never per
 * network chunk, so a multi-byte character split between two chunks arrives whole.
 *
 * One leniency beyond the spec: an event still open when the stream ends is delivered (the spec
 * drops it), because some servers end with `data: [DONE]` and no blank line.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export type { EventSourceMessage };

/** An event or an open line longer than this is not an OpenAI answer: the stream is refused rather than buffered without end. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export class SseOverflowError extends Error {
  constructor() {
    super(`an event of the stream exceeds ${MAX_EVENT_CHARS} characters`);
    this.name = 'SseOverflowError';
  }
}

/**
 * Yields, for each chunk of `body` that completes events, those events (an event as soon as its
 * terminating blank line has arrived). Batches, not single events: a network read usually holds
 * many events, and one async step per read costs far less than one per event.
 */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<EventSourceMessage[], void, undefined> {
  const decoder = new TextDecoder('utf-8');
  let queue: EventSourceMessage[] = [];
  let overflow = false;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (event) => queue.push(event),
    onError: (err) => {
      if (err.type === 'max-buffer-size-exceeded') overflow = true;
    },
  });
  const drain = (): EventSourceMessage[] => {
    if (overflow) throw new SseOverflowError();
    const events = queue;
    queue = [];
    return events;
  };
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    const events = drain();
    if (events.length) yield events;
  }
  // What the decoder still holds (an incomplete character becomes U+FFFD), then a blank line
  // that ends an open line and dispatches an open event.
  parser.feed(`${decoder.decode()}\n\n`);
  const events = drain();
  if (events.length) yield events;
}
