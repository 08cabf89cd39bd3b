"use client";

import { type FormEvent, useId, useState } from "react";
import { trpc } from "@/lib/api";
import { apiErrorMessage } from "./apiError";
import styles from "./canvases.module.css";
import { Modal } from "./Modal";
import type { CanvasSummary, Invitation, Member, Role } from "./types";

const ROLES: Role[] = ["owner", "writer", "reader"];

/**
 * The owner's sharing screen: invite by email (UI-10: the answer is the same whether or not the
 * email has an account, so it never says which), change roles, remove members and invitations.
 */
export function ShareDialog({
  canvas,
  userId,
  onClose,
}: {
  canvas: CanvasSummary;
  userId: string;
  onClose(): void;
}) {
  const utils = trpc.useUtils();
  const members = trpc.members.list.useQuery({ canvas_id: canvas.canvas_id });
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Exclude<Role, "owner">>("writer");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState("");
  const emailId = useId();
  const roleId = useId();

  // Any member change can change what the list shows (our own role, or our access at all).
  const refresh = () =>
    Promise.all([
      utils.members.list.invalidate({ canvas_id: canvas.canvas_id }),
      utils.canvas.list.invalidate(),
    ]);
  const fail = (e: unknown) => {
    setNotice("");
    setError(apiErrorMessage(e));
  };
  const changed = (message: string) => {
    setError(null);
    setNotice(message);
    return refresh();
  };

  const add = trpc.members.add.useMutation({
    onSuccess: async (m) => {
      setEmail("");
      setNotice(
        `Invited ${m.email} as ${m.role}. Without an account yet, they get access when they sign up with this email.`,
      );
      await refresh();
    },
    onError: fail,
  });

  function onAdd(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    if (!email.trim()) {
      setError("Enter the email address of the person to invite.");
      return;
    }
    add.mutate({ canvas_id: canvas.canvas_id, email: email.trim(), role });
  }

  return (
    <Modal title={`Share ${canvas.title}`} onClose={onClose}>
      <form className={styles.addForm} onSubmit={onAdd} noValidate>
        {/* Labels point at their control (not wrap it): a wrapped select would add its value to the name. */}
        <div className={styles.field}>
          <label htmlFor={emailId}>Member email</label>
          <input
            id={emailId}
            className="input"
            type="email"
            value={email}
            autoComplete="off"
            placeholder="name@example.com"
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className={styles.field}>
          <label htmlFor={roleId}>Role</label>
          <select
            id={roleId}
            className={`input ${styles.select}`}
            value={role}
            onChange={(e) => setRole(e.target.value as Exclude<Role, "owner">)}
          >
            <option value="writer">writer</option>
            <option value="reader">reader</option>
          </select>
        </div>
        <button type="submit" className="button" disabled={add.isPending}>
          Add member
        </button>
      </form>

      {error ? (
        <p role="alert" className="alert">
          {error}
        </p>
      ) : null}
      <p role="status" className={styles.notice}>
        {notice}
      </p>

      {members.isPending ? (
        <p role="status" className={styles.muted}>
          Loading members…
        </p>
      ) : members.isError ? (
        <p role="alert" className="alert">
          {apiErrorMessage(members.error)}
        </p>
      ) : (
        <ul className={styles.members} aria-label="Members">
          {members.data.members.map((m) => (
            <MemberRow
              key={m.user_id}
              member={m}
              canvasId={canvas.canvas_id}
              isYou={m.user_id === userId}
              onChanged={changed}
              onError={fail}
            />
          ))}
          {members.data.invitations.map((i) => (
            <InvitationRow
              key={i.invitation_id}
              invitation={i}
              canvasId={canvas.canvas_id}
              onChanged={changed}
              onError={fail}
            />
          ))}
        </ul>
      )}

      <div className={styles.dialogActions}>
        <button type="button" className="button secondary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}

function MemberRow({
  member,
  canvasId,
  isYou,
  onChanged,
  onError,
}: {
  member: Member;
  canvasId: string;
  isYou: boolean;
  onChanged(message: string): Promise<unknown>;
  onError(e: unknown): void;
}) {
  // The role being saved, shown at once instead of the old one until the list catches up.
  const [pendingRole, setPendingRole] = useState<Role | null>(null);
  const change = trpc.members.update.useMutation({
    onSuccess: (m) => onChanged(`${m.email} is now ${m.role}.`),
    onError,
    onSettled: () => setPendingRole(null),
  });
  const remove = trpc.members.remove.useMutation({
    onSuccess: () => onChanged(`Removed ${member.email}.`),
    onError,
  });
  const busy = change.isPending || remove.isPending;

  return (
    <li className={styles.member}>
      <div className={styles.memberWho}>
        <span className={styles.memberName}>
          {member.name}
          {isYou ? <span className={styles.muted}> (you)</span> : null}
        </span>
        <span className={styles.memberEmail}>{member.email}</span>
      </div>
      <select
        className={`input ${styles.select}`}
        aria-label={`Role for ${member.email}`}
        value={pendingRole ?? member.role}
        disabled={busy}
        onChange={(e) => {
          const next = e.target.value as Role;
          setPendingRole(next);
          change.mutate({ canvas_id: canvasId, user_id: member.user_id, role: next });
        }}
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <button
        type="button"
        className={`button secondary ${styles.dangerText}`}
        aria-label={`Remove ${member.email}`}
        disabled={busy}
        onClick={() => remove.mutate({ canvas_id: canvasId, user_id: member.user_id })}
      >
        Remove
      </button>
    </li>
  );
}

/** A pending invitation: the email, an "invited" mark, its role, and withdraw. */
function InvitationRow({
  invitation,
  canvasId,
  onChanged,
  onError,
}: {
  invitation: Invitation;
  canvasId: string;
  onChanged(message: string): Promise<unknown>;
  onError(e: unknown): void;
}) {
  const [pendingRole, setPendingRole] = useState<Role | null>(null);
  const change = trpc.members.updateInvitation.useMutation({
    onSuccess: (i) => onChanged(`${i.email} is now ${i.role}.`),
    onError,
    onSettled: () => setPendingRole(null),
  });
  const remove = trpc.members.cancelInvitation.useMutation({
    onSuccess: () => onChanged(`Withdrew the invitation of ${invitation.email}.`),
    onError,
  });
  const busy = change.isPending || remove.isPending;

  return (
    <li className={styles.member}>
      <div className={styles.memberWho}>
        <span className={styles.memberName}>
          {invitation.email}
          <span className={styles.muted}> (invited)</span>
        </span>
      </div>
      <select
        className={`input ${styles.select}`}
        aria-label={`Role for ${invitation.email}`}
        value={pendingRole ?? invitation.role}
        disabled={busy}
        onChange={(e) => {
          const next = e.target.value as Role;
          setPendingRole(next);
          change.mutate({ canvas_id: canvasId, invitation_id: invitation.invitation_id, role: next });
        }}
      >
        {ROLES.map((r) => (
          <option key={r} value={r}>
            {r}
          </option>
        ))}
      </select>
      <button
        type="button"
        className={`button secondary ${styles.dangerText}`}
        aria-label={`Remove ${invitation.email}`}
        disabled={busy}
        onClick={() => remove.mutate({ canvas_id: canvasId, invitation_id: invitation.invitation_id })}
      >
        Remove
      </button>
    </li>
  );
}
