// Talking to the master that served the page: reads of the console routes (`/console/api/*`),
// decoded from the CubeFS envelope, and a polling hook that keeps a page live without reloads.
// Polls are bounded: one request in flight per poller, each abandoned after REQUEST_TIMEOUT_MS,
// and none at all while the tab is hidden (a console left open in a background tab costs the
// master nothing).

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export const POLL_INTERVAL_MS = 2_000;
const REQUEST_TIMEOUT_MS = 5_000;

/** Why a read failed, in words for the operator. */
export class ApiError extends Error {
  constructor(
    message: string,
    /** 'no-leader': a leader-only view while this member knows no leader (HTTP 400, spec 2). */
    readonly kind: 'no-leader' | 'refused' | 'http' | 'network',
    /** The CubeFS code of a refused request. */
    readonly code = 0,
  ) {
    super(message);
  }
}

interface Envelope {
  readonly code: number;
  readonly msg: string;
  readonly data: unknown;
}

function isEnvelope(v: unknown): v is Envelope {
  return typeof v === 'object' && v !== null && typeof (v as Envelope).code === 'number' && typeof (v as Envelope).msg === 'string';
}

/** Reads a fetch Response as the CubeFS API answers: the envelope's data, or an ApiError saying why not. */
export async function envelopeData(response: Response): Promise<unknown> {
  const text = await response.text();
  if (response.status === 400) {
    // A follower that knows no leader answers leader-only reads with 400 and the leader it believes in.
    throw new ApiError(text.trim() === 'no leader' || text.trim() === '' ? 'no leader: this view needs the leader' : `refused: ${text.trim()}`, 'no-leader');
  }
  if (response.status === 503) throw new ApiError('the master is shutting down', 'http');
  if (response.status !== 200) throw new ApiError(`HTTP ${response.status}: ${text.trim().slice(0, 200)}`, 'http');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError('the master answered something that is not JSON', 'http');
  }
  if (!isEnvelope(body)) throw new ApiError('the master answered something that is not a CubeFS envelope', 'http');
  if (body.code !== 0) throw new ApiError(body.msg, 'refused', body.code);
  return body.data;
}

/** `fetch` with a deadline; network failures become ApiError. */
export async function request(path: string, init: RequestInit = {}, outer?: AbortSignal, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const onOuterAbort = (): void => controller.abort();
  outer?.addEventListener('abort', onOuterAbort);
  try {
    return await fetch(path, { ...init, signal: controller.signal, cache: 'no-store' });
  } catch {
    if (outer?.aborted === true) throw new ApiError('cancelled', 'network');
    throw new ApiError(controller.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : 'the master cannot be reached', 'network');
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onOuterAbort);
  }
}

export async function getData<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await envelopeData(await request(path, {}, signal))) as T;
}

export interface Polled<T> {
  /** The last good answer (kept while later polls fail, so a page shows stale data rather than none). */
  readonly data: T | null;
  /** Why the latest poll failed; null after a good one. */
  readonly error: ApiError | null;
  readonly updatedAtMs: number | null;
  /** Poll now (after an action). */
  readonly refresh: () => void;
}

/** `document.hidden`, as state. */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(!document.hidden);
  useEffect(() => {
    const onChange = (): void => setVisible(!document.hidden);
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }, []);
  return visible;
}

/** Polls `path` every `intervalMs` while the page is visible; null path: nothing. */
export function usePoll<T>(path: string | null, intervalMs = POLL_INTERVAL_MS): Polled<T> {
  const [state, setState] = useState<Omit<Polled<T>, 'refresh'>>({ data: null, error: null, updatedAtMs: null });
  const visible = usePageVisible();
  const kick = useRef<() => void>(() => undefined);

  useEffect(() => {
    setState({ data: null, error: null, updatedAtMs: null });
  }, [path]);

  useEffect(() => {
    if (path === null || !visible) return;
    const controller = new AbortController();
    let timer: number | undefined;
    let running = false;
    const poll = async (): Promise<void> => {
      if (running) return;
      running = true;
      clearTimeout(timer);
      try {
        const data = await getData<T>(path, controller.signal);
        if (!controller.signal.aborted) setState({ data, error: null, updatedAtMs: Date.now() });
      } catch (e) {
        const error = e instanceof ApiError ? e : new ApiError(String(e), 'network');
        if (!controller.signal.aborted) setState((s) => ({ ...s, error }));
      } finally {
        running = false;
        if (!controller.signal.aborted) timer = window.setTimeout(() => void poll(), intervalMs);
      }
    };
    kick.current = () => void poll();
    void poll();
    return () => {
      controller.abort();
      clearTimeout(timer);
      kick.current = () => undefined;
    };
  }, [path, visible, intervalMs]);

  const refresh = useCallback(() => kick.current(), []);
  return { ...state, refresh };
}
