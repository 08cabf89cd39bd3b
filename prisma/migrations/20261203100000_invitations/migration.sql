-- UI-10 / issue 9: sharing by email without an account oracle. Adding a member by email always
-- records an invitation, whether or not the email has an account, so the owner's answer and
-- list are the same either way. An invitation is accepted (it becomes, or stays, a membership
-- and this row goes) when that email registers or signs in. For an email that already has an
-- account the membership is granted at once as well (server/services/memberService.ts); the
-- owner still sees an invitation until the invitee signs in.
CREATE TABLE IF NOT EXISTS canvas_invitations (
  invitation_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  canvas_id     uuid NOT NULL REFERENCES canvas (canvas_id) ON DELETE CASCADE,
  -- Lower-cased, as users.email.
  email         text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 320 AND email = lower(email)),
  role          text NOT NULL CHECK (role IN ('owner', 'writer', 'reader')),
  invited_by    uuid REFERENCES users (user_id) ON DELETE SET NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (canvas_id, email)
);
-- Accepting at sign-in looks invitations up by email.
CREATE INDEX IF NOT EXISTS canvas_invitations_email_idx ON canvas_invitations (email);
