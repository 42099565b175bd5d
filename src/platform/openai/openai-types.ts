/**
 * The OpenAI-compatible wire shapes the shared client sends and reads: chat completions,
 * (legacy) completions and embeddings, each request, answer and stream chunk once, in the wire's
 * own snake_case so a caller can forward them unchanged. Only the fields some caller uses or the
 * client folds are listed; upstreams add more, and the client passes what it parsed through.
 *
 * Upstream JSON is not trusted to match these types field by field: the client checks what it
 * relies on (an object, a `choices` array) and reads the rest defensively.
 */

export interface ContentPart {
  type: string;
  text?: string;
}

export interface ChatMessage {
  role: string;
  /** Text, or content parts (only the `text` of each part is read back). */
  content: string | ContentPart[] | null;
  name?: string;
}

/** Settings shared by chat and text completions. */
interface GenerationParams {
  model: string;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string | string[];
  seed?: number;
  n?: number;
  user?: string;
}

export interface ChatCompletionRequest extends GenerationParams {
  messages: ChatMessage[];
  logprobs?: boolean;
  top_logprobs?: number;
}

export interface CompletionRequest extends GenerationParams {
  prompt: string;
  /** Number of most likely tokens to return per position (0 returns only the chosen token's). */
  logprobs?: number;
}

export interface EmbeddingRequest {
  model: string;
  input: string | string[];
  dimensions?: number;
  user?: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[] | null;
  top_logprobs?: { token: string; logprob: number; bytes?: number[] | null }[];
}

export interface ChatChoice {
  index: number;
  message: { role: string; content: string | null };
  finish_reason: string | null;
  logprobs?: { content: TokenLogprob[] | null } | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatChoice[];
  usage?: Usage | null;
}

export interface ChatChunkChoice {
  index: number;
  delta: { role?: string; content?: string | ContentPart[] | null };
  finish_reason: string | null;
  logprobs?: { content: TokenLogprob[] | null } | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatChunkChoice[];
  /** Set on the last chunk when `stream_options.include_usage` was asked for (null before it). */
  usage?: Usage | null;
}

export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
}

export interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: string | null;
  logprobs?: CompletionLogprobs | null;
}

/** A text completion; a stream's chunks have the same shape, each choice's `text` a piece. */
export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: Usage | null;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  embedding: number[];
}

export interface EmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage?: { prompt_tokens: number; total_tokens: number } | null;
}

/** What a generation call measured and folded, beside the answer in its non-streamed shape. */
export interface GenerationResult<C> {
  /** The answer as the non-streamed endpoint returns it (a stream's chunks folded into one). */
  completion: C;
  /** Text of the first choice ('' when it produced none). */
  text: string;
  /** Log-probabilities of the first choice's tokens, when the upstream returned them. */
  logprobs: number[] | null;
  usage: Usage | null;
  /** From sending the request to the last byte of the answer. */
  latencyMs: number;
  /** From sending the request to the first content chunk; null when the answer was not streamed. */
  ttftMs: number | null;
  /** Chunks that carried content (0 when not streamed). */
  contentChunks: number;
}

export type ChatResult = GenerationResult<ChatCompletion>;
export type CompletionResult = GenerationResult<Completion>;

export interface EmbeddingResult {
  response: EmbeddingResponse;
  latencyMs: number;
}
