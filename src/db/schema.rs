// Written to match migrations/{postgres,sqlite}; both backends share these column types.

diesel::table! {
    organisations (id) {
        id -> BigInt,
        name -> Text,
        slug -> Text,
        unlock_policy -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        organisation_id -> Nullable<BigInt>,
        email -> Text,
        full_name -> Text,
        role -> Text,
        password_hash -> Text,
        failed_attempts -> Integer,
        locked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        totp_secret -> Nullable<Text>,
        totp_pending_secret -> Nullable<Text>,
        totp_enrolled_at -> Nullable<Timestamp>,
        totp_last_step -> Nullable<BigInt>,
        email_changed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        stage -> Text,
        second_factor_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        role -> Text,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        created_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    throttle (bucket) {
        bucket -> Text,
        window_start -> Timestamp,
        count -> Integer,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    unlock_pins (id) {
        id -> BigInt,
        owner_id -> BigInt,
        target_user_id -> BigInt,
        pin_hash -> Text,
        tries -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    events (id) {
        id -> BigInt,
        at -> Timestamp,
        action -> Text,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        target_user_id -> Nullable<BigInt>,
        target_label -> Text,
        organisation_id -> Nullable<BigInt>,
        ip -> Nullable<Text>,
        detail -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        to_address -> Text,
        subject -> Text,
        text_body -> Text,
        html_body -> Text,
        message_id -> Text,
        in_reply_to -> Nullable<Text>,
        auto_submitted -> Nullable<Text>,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        claimed_until -> Nullable<Timestamp>,
        sent_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        given_up_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    report_days (day_start) {
        day_start -> Timestamp,
        day_end -> Timestamp,
        rules -> Text,
        latest_at -> Nullable<Timestamp>,
        open_ticket_ids -> Text,
        settled -> Binary,
    }
}

diesel::table! {
    ticket_report_rows (ticket_id) {
        ticket_id -> BigInt,
        received_at -> Timestamp,
        account_user_id -> Nullable<BigInt>,
        verification_method -> Nullable<Text>,
        history -> Text,
        latest_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    tickets (id) {
        id -> BigInt,
        status -> Text,
        received_at -> Timestamp,
        sender -> Text,
        sender_name -> Nullable<Text>,
        subject -> Text,
        full_name -> Nullable<Text>,
        full_name_source -> Nullable<Text>,
        registered_email -> Nullable<Text>,
        registered_email_source -> Nullable<Text>,
        description -> Nullable<Text>,
        description_source -> Nullable<Text>,
        account_user_id -> Nullable<BigInt>,
        updated_at -> Timestamp,
        assignee_id -> Nullable<BigInt>,
        verified_at -> Nullable<Timestamp>,
        verified_by_id -> Nullable<BigInt>,
        verification_method -> Nullable<Text>,
        verification_note -> Nullable<Text>,
        mailbox_confirmed_at -> Nullable<Timestamp>,
        requester_user_id -> Nullable<BigInt>,
        approved_at -> Nullable<Timestamp>,
        approved_by_id -> Nullable<BigInt>,
        approval_note -> Nullable<Text>,
    }
}

diesel::table! {
    ticket_events (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<BigInt>,
        actor_label -> Text,
        kind -> Text,
        detail -> Text,
    }
}

diesel::table! {
    mailbox_challenges (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        token_hash -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        tries -> Integer,
    }
}

diesel::table! {
    inbound_messages (id) {
        id -> BigInt,
        source -> Text,
        source_key -> Text,
        message_id -> Nullable<Text>,
        content_hash -> Text,
        received_at -> Timestamp,
        raw -> Binary,
        outcome -> Text,
        reason -> Text,
        ticket_id -> Nullable<BigInt>,
        size_bytes -> BigInt,
        from_header -> Text,
        subject -> Text,
        machine_class -> Nullable<Text>,
        authentication_results -> Nullable<Text>,
        raw_complete -> Bool,
        raw_cleared_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        inbound_message_id -> BigInt,
        position -> Integer,
        filename -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content -> Nullable<Binary>,
        note -> Text,
    }
}

diesel::table! {
    ticket_messages (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        direction -> Text,
        message_id -> Text,
        at -> Timestamp,
        sender -> Text,
        subject -> Text,
        body_text -> Text,
        inbound_message_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    intake_health (source) {
        source -> Text,
        last_success_at -> Nullable<Timestamp>,
        consecutive_errors -> Integer,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamp>,
        skipped -> Text,
    }
}

diesel::table! {
    sla_alerts (ticket_id, target, level) {
        ticket_id -> BigInt,
        target -> Text,
        level -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    canned_replies (id) {
        id -> BigInt,
        title -> Text,
        body -> Text,
        updated_at -> Timestamp,
        updated_by_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    ticket_viewers (ticket_id, user_id) {
        ticket_id -> BigInt,
        user_id -> BigInt,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    digests_sent (day) {
        day -> Date,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    worker_leases (name) {
        name -> Text,
        holder -> Text,
        token -> BigInt,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(ticket_viewers -> users (user_id));
diesel::joinable!(ticket_events -> tickets (ticket_id));
diesel::joinable!(mailbox_challenges -> tickets (ticket_id));
diesel::joinable!(ticket_messages -> tickets (ticket_id));
diesel::joinable!(attachments -> inbound_messages (inbound_message_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));
diesel::joinable!(recovery_codes -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    sessions,
    api_tokens,
    password_resets,
    unlock_pins,
    events,
    outbox,
    tickets,
    inbound_messages,
    attachments,
    ticket_messages,
    intake_health,
    ticket_events,
    mailbox_challenges,
    recovery_codes,
    throttle,
    sla_alerts,
    canned_replies,
    ticket_viewers,
    digests_sent,
    worker_leases,
);
