"use client";

import { type KeyboardEvent, type ReactNode, useEffect, useId, useMemo, useRef } from "react";
import {
  conflictFields,
  conflictSubject,
  type DiffPart,
  type FieldDiff,
  fieldDiff,
  type TextFieldDiff,
  type ValueLine,
} from "@/lib/conflictDiff";
import type { ConflictItem } from "@/lib/sync";
import styles from "./conflict.module.css";

export interface ConflictPanelProps {
  conflict: ConflictItem;
  onAcceptTheirs(): void;
  onKeepMine(): void;
  /** While the choice is being applied: both buttons are disabled. */
  busy?: boolean;
  /** The block's 1-based place in the document, when it is still there (as in "Todo block 3"). */
  blockNumber?: number;
  /** A block of the page by id, named as the page shows it (a parent: `Text block 2 “…”`). */
  blockName?: (id: string) => string | undefined;
}

const EXPLANATION = {
  stale_fields: "Someone changed this block while you were editing it.",
  deleted: "Someone deleted this block while you were editing it.",
} as const;

const FOCUSABLE =
  'button:not([disabled]), [href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

/**
 * UI-4: a conflict must be decided. Escape does nothing (nothing is overwritten silently), focus
 * stays inside the panel, and it returns to where it was once the panel goes away.
 */
export function ConflictPanel({
  conflict,
  onAcceptTheirs,
  onKeepMine,
  busy = false,
  blockNumber,
  blockName,
}: ConflictPanelProps) {
  const headingId = useId();
  const subjectId = useId();
  const descriptionId = useId();
  // MUT-10: the panel says which block it is about, as the page shows it now.
  const subject = conflictSubject({
    reason: conflict.reason,
    shown: conflict.result.block,
    seen: conflict.block,
    ...(blockNumber !== undefined ? { number: blockNumber } : {}),
  });
  const panelRef = useRef<HTMLDivElement>(null);
  const acceptRef = useRef<HTMLButtonElement>(null);

  const diffs = useMemo(
    () =>
      conflictFields({
        reason: conflict.reason,
        fields: conflict.fields,
        op: conflict.op,
        block: conflict.block,
      }).map((f) => fieldDiff(f, blockName ? { blockName } : {})),
    [conflict.reason, conflict.fields, conflict.op, conflict.block, blockName],
  );

  // Focus "Accept theirs" when a conflict opens; give focus back to the editor when it closes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-run per conflict, keyed on its id
  useEffect(() => {
    const previous = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    acceptRef.current?.focus();
    return () => {
      if (previous?.isConnected) previous.focus();
    };
  }, [conflict.id]);

  function onKeyDown(e: KeyboardEvent<HTMLDivElement>) {
    // While a conflict is open, no editor shortcut (undo, block moves, …) may act behind it.
    e.stopPropagation();
    if (e.key === "Escape") {
      // The choice is required: Escape closes nothing.
      e.preventDefault();
      return;
    }
    if (e.key !== "Tab" || !panelRef.current) return;
    const focusable = Array.from(panelRef.current.querySelectorAll<HTMLElement>(FOCUSABLE));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  return (
    <div className={styles.backdrop}>
      <div
        ref={panelRef}
        className={styles.panel}
        role="dialog"
        aria-modal="true"
        aria-labelledby={headingId}
        aria-describedby={`${subjectId} ${descriptionId}`}
        aria-busy={busy}
        onKeyDown={onKeyDown}
      >
        <h2 id={headingId} className={styles.heading}>
          Conflict
        </h2>
        <p id={subjectId} className={styles.subject}>
          About <strong>{subject}</strong>
        </p>
        <p id={descriptionId} className={styles.explanation}>
          {EXPLANATION[conflict.reason]} Nothing is overwritten until you choose which version to keep.
        </p>

        <div className={styles.fields}>
          {diffs.length === 0 ? (
            <p className={styles.muted}>There are no field details for this conflict.</p>
          ) : (
            diffs.map((d) => <FieldSection key={d.field} diff={d} deleted={conflict.reason === "deleted"} />)
          )}
        </div>

        <div className={styles.actions}>
          <button
            ref={acceptRef}
            type="button"
            className={styles.secondary}
            onClick={onAcceptTheirs}
            disabled={busy}
          >
            Accept theirs
          </button>
          <button type="button" className={styles.primary} onClick={onKeepMine} disabled={busy}>
            Keep mine
          </button>
        </div>
      </div>
    </div>
  );
}

function FieldSection({ diff, deleted }: { diff: FieldDiff; deleted: boolean }) {
  const headingId = useId();
  return (
    <section className={styles.field} aria-labelledby={headingId}>
      <h3 id={headingId} className={styles.fieldHeading}>
        {diff.label}
      </h3>
      <div className={styles.columns}>
        {diff.kind === "value" ? (
          <ValueColumns diff={diff} deleted={deleted} />
        ) : (
          <TextColumns diff={diff} deleted={deleted} />
        )}
      </div>
    </section>
  );
}

function TextColumns({ diff, deleted }: { diff: TextFieldDiff; deleted: boolean }) {
  return (
    <>
      <Column label="base" hint="before both edits">
        {diff.absent.base ? (
          <Absent text="none" />
        ) : (
          <Parts kind={diff.kind} parts={[{ kind: "same", text: diff.base }]} />
        )}
      </Column>
      <Column label="theirs" hint={deleted ? "deleted by someone else" : "saved by someone else"}>
        {diff.absent.theirs ? (
          <Absent text={deleted ? "deleted" : "none"} />
        ) : (
          <Parts kind={diff.kind} parts={diff.theirs} unchanged={!diff.changed.theirs} />
        )}
      </Column>
      <Column label="mine" hint="your edit">
        {diff.absent.mine ? (
          <Absent text="none" />
        ) : (
          <Parts kind={diff.kind} parts={diff.mine} unchanged={!diff.changed.mine} />
        )}
      </Column>
    </>
  );
}

/** Type, properties, parent, position: values as the editor shows them, not their JSON. */
function ValueColumns({ diff, deleted }: { diff: Extract<FieldDiff, { kind: "value" }>; deleted: boolean }) {
  return (
    <>
      <Column label="base" hint="before both edits">
        {diff.absent.base ? <Absent text="none" /> : <Values lines={diff.base} />}
      </Column>
      <Column label="theirs" hint={deleted ? "deleted by someone else" : "saved by someone else"}>
        {deleted || diff.absent.theirs ? (
          <Absent text={deleted ? "deleted" : "none"} />
        ) : (
          <Values lines={diff.theirs} unchanged={!diff.changed.theirs} />
        )}
      </Column>
      <Column label="mine" hint="your edit">
        {diff.absent.mine ? (
          <Absent text="none" />
        ) : (
          <Values lines={diff.mine} unchanged={!diff.changed.mine} />
        )}
      </Column>
    </>
  );
}

function Column({ label, hint, children }: { label: string; hint: string; children: ReactNode }) {
  return (
    <div className={styles.column}>
      <div className={styles.columnHead}>
        <span className={styles.columnLabel}>{label}</span> <span className={styles.hint}>{hint}</span>
      </div>
      {children}
    </div>
  );
}

function Absent({ text }: { text: string }) {
  return <p className={styles.absent}>({text})</p>;
}

/** Inserted and deleted runs: colour plus underline / strike-through, and a word for screen readers. */
function Mark({ part }: { part: DiffPart }) {
  if (part.kind === "same") return <span>{part.text}</span>;
  const Tag = part.kind;
  return (
    <>
      <span className={styles.srOnly}>{part.kind === "ins" ? "added: " : "removed: "}</span>
      <Tag className={part.kind === "ins" ? styles.ins : styles.del}>{part.text}</Tag>
    </>
  );
}

/** One value: its words, after a box when it is a todo's `checked` (ticked or not). */
function Value({ line }: { line: ValueLine }) {
  const { text, checkbox } = line.value;
  const shown =
    checkbox === undefined ? (
      <span>{text}</span>
    ) : (
      <label className={styles.check}>
        <input type="checkbox" checked={checkbox} disabled readOnly /> {text}
      </label>
    );
  if (line.kind === "same") return shown;
  const Tag = line.kind;
  return (
    <>
      <span className={styles.srOnly}>{line.kind === "ins" ? "added: " : "removed: "}</span>
      <Tag className={line.kind === "ins" ? styles.ins : styles.del}>{shown}</Tag>
    </>
  );
}

/** A side's values; one changed value reads "Text → Quote". */
function Values({ lines, unchanged }: { lines: ValueLine[]; unchanged?: boolean }) {
  const note = unchanged ? <span className={styles.hint}>unchanged</span> : null;
  const [first, second] = lines;
  let body: ReactNode;
  if (!first) body = <p className={styles.muted}>(none)</p>;
  else if (lines.length === 1) {
    body = (
      <p className={styles.value}>
        <Value line={first} />
      </p>
    );
  } else if (lines.length === 2 && first.kind === "del" && second?.kind === "ins") {
    body = (
      <p className={styles.value}>
        <Value line={first} /> <span aria-hidden="true">→</span> <Value line={second} />
      </p>
    );
  } else {
    body = (
      <ul className={styles.values}>
        {lines.map((line, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is rebuilt whole, never reordered
          <li key={i}>
            <Value line={line} />
          </li>
        ))}
      </ul>
    );
  }
  return (
    <div>
      {body}
      {note}
    </div>
  );
}

function Parts({
  kind,
  parts,
  unchanged,
}: {
  kind: FieldDiff["kind"];
  parts: DiffPart[];
  unchanged?: boolean;
}) {
  const note = unchanged ? <span className={styles.hint}>unchanged</span> : null;
  if (kind === "text") {
    return (
      <div>
        <p className={styles.text}>
          {parts.length === 0 ? (
            <span className={styles.muted}>(empty)</span>
          ) : (
            // Parts have no identity beyond their place in the diff.
            // biome-ignore lint/suspicious/noArrayIndexKey: the list is rebuilt whole, never reordered
            parts.map((p, i) => <Mark key={i} part={p} />)
          )}
        </p>
        {note}
      </div>
    );
  }
  return (
    <div>
      <pre className={styles.json}>
        {parts.map((p, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: the list is rebuilt whole, never reordered
          <span key={i} className={styles.line}>
            <Mark part={p} />
          </span>
        ))}
      </pre>
      {note}
    </div>
  );
}
