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
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
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
    }
}

diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(password_resets -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations, users, sessions, api_tokens, password_resets, unlock_pins, events, outbox,
);
