/**
 * An {@link AccountStore} whose writes can be made to fail, for tests of what held accounts do
 * when the disk is full or the device fails: while its switch is on, every write method
 * (saveAccount, append, trim, forget) rejects with a {@link StoreWriteError} and changes nothing, as
 * the SQLite store does when a transaction cannot commit; reads go on working. Turning the switch
 * off heals it.
 *
 * @module
 */

import { type AccountStore, StoreWriteError } from "../../lib/store/sqlite.ts";

/** The switch of a {@link faultyStore}: shared, so that it outlives the stores it governs. */
export interface StoreFault {
  /** True while writes fail. */
  failing: boolean;
  /** Writes refused so far (to tell that a fault was actually met). */
  refused: number;
}

/** A fresh switch, off. */
export function storeFault(): StoreFault {
  return { failing: false, refused: 0 };
}

/**
 * Wraps `store` so that its writes throw while `fault.failing` is true.
 *
 * @example
 * ```ts ignore
 * const fault = storeFault();
 * const store = faultyStore(await openSqliteStore(dir), fault);
 * fault.failing = true; // store.append(...) now rejects with StoreWriteError
 * fault.failing = false; // and works again
 * ```
 */
export function faultyStore(store: AccountStore, fault: StoreFault): AccountStore {
  /** Throws, as a failed transaction does, while the switch is on. */
  const refuse = (what: string) => {
    if (!fault.failing) return;
    fault.refused++;
    throw new StoreWriteError(`${what}: disk I/O error (injected by the test)`);
  };
  return {
    kind: store.kind,
    accounts: () => store.accounts(),
    account: (keyId) => store.account(keyId),
    saveAccount: async (account, fence) => {
      refuse("saving a held account");
      await store.saveAccount(account, fence);
    },
    append: async (keyId, entries, cursor, fence) => {
      refuse("journaling updates");
      await store.append(keyId, entries, cursor, fence);
    },
    journal: (keyId, afterSeq) => store.journal(keyId, afterSeq),
    journalBounds: (keyId) => store.journalBounds(keyId),
    trim: async (keyId, keep) => {
      refuse("trimming a journal");
      await store.trim(keyId, keep);
    },
    forget: async (keyId) => {
      refuse("forgetting a held account");
      await store.forget(keyId);
    },
    claim: (keyId, owner, ms) => store.claim(keyId, owner, ms),
    renew: (owner, keyIds, ms) => store.renew(owner, keyIds, ms),
    release: (owner, keyIds) => store.release(owner, keyIds),
    unleased: () => store.unleased(),
    heartbeat: (owner, ms) => store.heartbeat(owner, ms),
    askHandover: (keyId, asker) => store.askHandover(keyId, asker),
    onHandover: (handler) => store.onHandover(handler),
    close: () => store.close(),
  };
}
