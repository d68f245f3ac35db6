-- Every comment-added the gateway published, by what identifies the Gerrit message apart from its second: the live
-- stream gives no message id, and the REST API may date a message a second or two apart from the live event's
-- eventCreatedOn. A comment from a source not in a row's sources within Gateway:CommentMatchSeconds of it is that same
-- message (PublishedComments); each source pairs with a row once, so a second, genuinely new message stays apart.
CREATE TABLE IF NOT EXISTS $schema$.published_comments (
    event_id      text        PRIMARY KEY,
    project       text        NOT NULL,
    change_number integer     NOT NULL,
    patch_set     integer,
    author        text        NOT NULL,
    text_hash     text        NOT NULL,
    created_on    timestamptz NOT NULL,
    sources       text[]      NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS published_comments_message ON $schema$.published_comments (project, change_number, author, text_hash, created_on);
CREATE INDEX IF NOT EXISTS published_comments_received ON $schema$.published_comments (received_at);
