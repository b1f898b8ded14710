// Operator actions (leadership transfer, node decommission). The console is read-only until an
// operator asks for one: a dialog then says exactly what will happen and asks for the root
// user's access key and secret key, and only "Confirm" sends the request, signed here in the
// page as src/api/root-auth.ts expects (HMAC-SHA256 with the secret key over method, path and
// query, date and body hash). The secret key never leaves the page: it is not sent, not stored
// in localStorage, sessionStorage or a cookie, and is held in this module's memory only until
// the operator forgets it, the master refuses it, or the tab closes.
//
// Signing uses @noble/hashes rather than WebCrypto: crypto.subtle exists only in secure contexts
// (https or localhost), and operators often open a master's console over plain http.

import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, envelopeData, request } from './api.js';

/** Longer than the master's own bound on a leadership transfer (10 s), so its answer arrives. */
const ACTION_TIMEOUT_MS = 15_000;

export interface RootKeys {
  readonly accessKey: string;
  readonly secretKey: string;
}

/** The header names and canonical request of src/api/root-auth.ts. */
export function signRequest(method: string, pathAndQuery: string, body: Uint8Array, keys: RootKeys, nowMs: number): Record<string, string> {
  const date = String(Math.trunc(nowMs));
  const canonical = `${method.toUpperCase()}\n${pathAndQuery}\n${date}\n${bytesToHex(sha256(body))}`;
  return {
    'x-cubemaster-access-key': keys.accessKey,
    'x-cubemaster-date': date,
    'x-cubemaster-signature': bytesToHex(hmac(sha256, utf8ToBytes(keys.secretKey), utf8ToBytes(canonical))),
  };
}

// --- the keys held in memory ----------------------------------------------------------------

let heldKeys: RootKeys | null = null;
const keyListeners = new Set<() => void>();

function setHeldKeys(keys: RootKeys | null): void {
  heldKeys = keys;
  for (const listener of keyListeners) listener();
}

export function forgetKeys(): void {
  setHeldKeys(null);
}

/** The access key of the keys held (masked for display), or null. */
export function useHeldAccessKey(): string | null {
  const [ak, setAk] = useState(heldKeys?.accessKey ?? null);
  useEffect(() => {
    const listener = (): void => setAk(heldKeys?.accessKey ?? null);
    keyListeners.add(listener);
    return () => void keyListeners.delete(listener);
  }, []);
  return ak === null ? null : maskKey(ak);
}

function maskKey(key: string): string {
  return key.length >= 12 ? `${key.slice(0, 4)}…${key.slice(-3)}` : '…';
}

// --- asking for an action -------------------------------------------------------------------

export interface ActionRequest {
  readonly title: string;
  /** Exactly what will happen, in the operator's words. */
  readonly description: ComponentChildren;
  readonly confirmLabel: string;
  readonly method: 'POST';
  /** Path and query, exactly as signed and sent. */
  readonly path: string;
  /** The message shown once the master answered success. */
  readonly done: (data: unknown) => string;
}

export interface Notice {
  readonly id: number;
  readonly tone: 'ok' | 'bad';
  readonly text: string;
}

/** Opens the confirmation dialog for an action; provided by the app. */
export const AskAction = createContext<(action: ActionRequest) => void>(() => undefined);

export function useAskAction(): (action: ActionRequest) => void {
  return useContext(AskAction);
}

type Phase = { readonly kind: 'editing' } | { readonly kind: 'sending' } | { readonly kind: 'refused'; readonly message: string };

/** The modal dialog of one action: what will happen, the root keys, Cancel / Confirm. */
export function ActionDialog({ action, onClose }: { action: ActionRequest; onClose: (notice: Notice | null) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [useHeld, setUseHeld] = useState(heldKeys !== null);
  const [accessKey, setAccessKey] = useState('');
  const [secretKey, setSecretKey] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'editing' });
  const heldAk = useHeldAccessKey();

  useEffect(() => {
    const d = dialog.current;
    if (d !== null && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const keys: RootKeys | null = useHeld && heldKeys !== null ? heldKeys : accessKey.trim() !== '' && secretKey !== '' ? { accessKey: accessKey.trim(), secretKey } : null;

  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (keys === null || phase.kind === 'sending') return;
    setPhase({ kind: 'sending' });
    const body = new Uint8Array(0);
    try {
      const headers = signRequest(action.method, action.path, body, keys, Date.now());
      const data = await envelopeData(await request(action.path, { method: action.method, headers }, undefined, ACTION_TIMEOUT_MS));
      setHeldKeys(keys);
      onClose({ id: Date.now(), tone: 'ok', text: action.done(data) });
    } catch (e) {
      const error = e instanceof ApiError ? e : new ApiError(String(e), 'network');
      // A refused signature (code 57) means the keys are wrong: do not keep them.
      if (error.kind === 'refused' && error.code === 57) {
        if (useHeld) forgetKeys();
        setUseHeld(false);
        setPhase({
          kind: 'refused',
          message: `Refused by the master (code 57, ${error.message}): these are not the root user's keys, or this computer's clock is more than 5 minutes off the master's. Nothing was changed.`,
        });
      } else if (error.kind === 'refused') {
        setPhase({ kind: 'refused', message: `The master refused it (code ${error.code}): ${error.message}.` });
      } else {
        setPhase({ kind: 'refused', message: `Not done: ${error.message}.` });
      }
    }
  };

  return (
    <dialog ref={dialog} class="action-dialog" onCancel={() => onClose(null)} aria-labelledby="action-title">
      <form method="dialog" onSubmit={(e) => void confirm(e)}>
        <h2 id="action-title">{action.title}</h2>
        <div class="action-description">{action.description}</div>
        <fieldset class="keys" disabled={phase.kind === 'sending'}>
          <legend>Root user's keys</legend>
          {useHeld && heldAk !== null ? (
            <p class="keys-held">
              Signing with the keys held in this tab (access key <code>{heldAk}</code>).{' '}
              <button type="button" class="link" onClick={() => setUseHeld(false)}>
                Use other keys
              </button>
            </p>
          ) : (
            <>
              <label>
                Access key
                <input name="accessKey" autocomplete="off" spellcheck={false} required value={accessKey} onInput={(e) => setAccessKey(e.currentTarget.value)} />
              </label>
              <label>
                Secret key
                <input name="secretKey" type="password" autocomplete="off" required value={secretKey} onInput={(e) => setSecretKey(e.currentTarget.value)} />
              </label>
              <p class="hint">The secret key stays in this page: it signs the request and is never sent or stored.</p>
            </>
          )}
        </fieldset>
        {phase.kind === 'refused' && (
          <p class="action-error" role="alert">
            {phase.message}
          </p>
        )}
        <div class="dialog-buttons">
          <button type="button" onClick={() => onClose(null)} disabled={phase.kind === 'sending'}>
            Cancel
          </button>
          <button type="submit" class="danger" name="confirm" disabled={keys === null || phase.kind === 'sending'}>
            {phase.kind === 'sending' ? 'Working…' : action.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
