# shellcheck shell=bash
# Sourced by scripts/test and scripts/mailstack-check. A real, private mail
# stack for the tests, on loopback only:
#
#   Postfix  SMTP 127.0.0.1:14025 (STARTTLS offered), submissions (implicit
#            TLS) 127.0.0.1:14465; no auth; accepts mail only from
#            127.0.0.0/8 and only for the users below, delivering them over
#            LMTP to Dovecot. Any other recipient domain is refused at RCPT
#            time, and there is no SMTP client transport at all, so it never
#            connects out.
#   Dovecot  IMAP 127.0.0.1:14143 (plain + STARTTLS), IMAPS 127.0.0.1:14993,
#            LMTP 127.0.0.1:14024; users from a passwd-file, Maildir storage.
#
# Everything (config, queue, Maildirs, pid and log files, a self-signed
# certificate for localhost/127.0.0.1) lives in $KEYDESK_MAILSTACK_DIR
# (default /tmp/keydesk-mailstack). The system's /etc/postfix/main.cf and
# /etc/dovecot are never used. Logs: $DIR/postfix.log, $DIR/dovecot.log.
#
# ensure_mail_packages   install postfix, dovecot-imapd/-lmtpd, openssl
# start_mail_stack       start what is not running, wait, export KEYDESK_*
# stop_mail_stack        stop both; the state dir (and mail) stays

# shellcheck source=scripts/lib/apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt.sh"

KEYDESK_MAIL_HOST=127.0.0.1
KEYDESK_MAIL_SMTP_PORT=14025
KEYDESK_MAIL_SMTPS_PORT=14465
KEYDESK_MAIL_IMAP_PORT=14143
KEYDESK_MAIL_IMAPS_PORT=14993
KEYDESK_MAIL_LMTP_PORT=14024
KEYDESK_MAIL_TEST_PASSWORD=keydesk-test
KEYDESK_MAIL_DOMAINS=(keydesk.test acme.test support.test)
KEYDESK_MAIL_USERS=(support@keydesk.test jane@acme.test owner@acme.test
                    admin@acme.test agent@support.test)
# System user owning all Maildirs (created when missing).
KEYDESK_MAIL_UID_NAME=vmail

ensure_mail_packages() {
    local missing=()
    [ -x /usr/sbin/postfix ] || missing+=(postfix)
    [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] || missing+=(dovecot-imapd)
    [ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-lmtpd)
    command -v openssl >/dev/null || missing+=(openssl)
    [ ${#missing[@]} -eq 0 ] && return 0

    echo "keydesk: installing ${missing[*]} (Debian packages)..." >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "keydesk: need root to install ${missing[*]}" >&2
        return 1
    fi
    # Without this, postfix's debconf asks what kind of mail server to set up;
    # we only ever run our own instance, so the system one gets no config.
    echo 'postfix postfix/main_mailer_type select No configuration' |
        debconf-set-selections || return 1
    keydesk_apt_install "${missing[@]}"
}

_keydesk_mail_dir() {
    local dir=${KEYDESK_MAILSTACK_DIR:-/tmp/keydesk-mailstack}
    case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
    printf '%s\n' "${dir%/}"
}

# _keydesk_pid_live PIDFILE COMM: the file names a running process called
# COMM (a stale pid file, e.g. after a reboot, may name another process).
_keydesk_pid_live() {
    local pid comm
    [ -r "$1" ] || return 1
    pid=$(tr -dc 0-9 <"$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
    [ "$comm" = "$2" ]
}

# _keydesk_port_answers PORT [BANNER_PREFIX]: something accepts a TCP
# connection on 127.0.0.1:PORT (and, if given, greets with BANNER_PREFIX).
_keydesk_port_answers() {
    # shellcheck disable=SC2016 # expanded by the inner bash, from "$@"
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        [ -z "$2" ] && exit 0
        IFS= read -r -t 4 line <&3 || exit 1
        case $line in "$2"*) exit 0 ;; *) exit 1 ;; esac
    ' "$KEYDESK_MAIL_HOST" "$1" "${2:-}" 2>/dev/null
}

_keydesk_postfix_running() {
    _keydesk_pid_live "$1/postfix/spool/pid/master.pid" master
}

_keydesk_dovecot_running() {
    _keydesk_pid_live "$1/dovecot/run/master.pid" dovecot
}

_keydesk_mail_export() {
    export KEYDESK_SMTP_HOST=$KEYDESK_MAIL_HOST
    export KEYDESK_SMTP_PORT=$KEYDESK_MAIL_SMTP_PORT
    export KEYDESK_SMTPS_PORT=$KEYDESK_MAIL_SMTPS_PORT
    export KEYDESK_IMAP_HOST=$KEYDESK_MAIL_HOST
    export KEYDESK_IMAP_PORT=$KEYDESK_MAIL_IMAP_PORT
    export KEYDESK_IMAPS_PORT=$KEYDESK_MAIL_IMAPS_PORT
    export KEYDESK_MAIL_PASSWORD=$KEYDESK_MAIL_TEST_PASSWORD
    export KEYDESK_MAILSTACK_DIR=$1
    export KEYDESK_MAILDIR_ROOT=$1/mail
    # The self-signed certificate, for clients that want to trust it
    # rather than skip verification.
    export KEYDESK_MAIL_TLS_CERT=$1/tls/cert.pem
}

# Writes all config files of both daemons (always anew, so edits here take
# effect on the next start) and the certificate (only when missing).
_keydesk_mail_configure() {
    local dir=$1 user
    mkdir -p "$dir"/{tls,postfix/conf,postfix/spool,postfix/data,dovecot/run,dovecot/state,mail,home} ||
        return 1
    chmod 755 "$dir" "$dir/postfix" "$dir/postfix/conf" "$dir/dovecot"

    if ! id -u "$KEYDESK_MAIL_UID_NAME" >/dev/null 2>&1; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$KEYDESK_MAIL_UID_NAME" || return 1
    fi
    local uid gid
    uid=$(id -u "$KEYDESK_MAIL_UID_NAME") gid=$(id -g "$KEYDESK_MAIL_UID_NAME")
    chown "$uid:$gid" "$dir/mail" "$dir/home"
    chown postfix:postfix "$dir/postfix/data"   # master.lock etc.

    if [ ! -s "$dir/tls/cert.pem" ] || [ ! -s "$dir/tls/key.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
            -subj /CN=localhost \
            -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
            -keyout "$dir/tls/key.pem" -out "$dir/tls/cert.pem" >/dev/null 2>&1 || {
            echo "keydesk: openssl could not make a certificate in $dir/tls" >&2
            return 1
        }
        chmod 600 "$dir/tls/key.pem"
        chmod 644 "$dir/tls/cert.pem"
    fi

    # --- Dovecot ---
    : >"$dir/dovecot/users"
    for user in "${KEYDESK_MAIL_USERS[@]}"; do
        printf '%s:{PLAIN}%s\n' "$user" "$KEYDESK_MAIL_TEST_PASSWORD" >>"$dir/dovecot/users"
    done
    chmod 640 "$dir/dovecot/users"
    chgrp dovecot "$dir/dovecot/users"

    cat >"$dir/dovecot/dovecot.conf" <<EOF
# Written by scripts/lib/mailstack.sh; rewritten at every start.
instance_name = keydesk-mailstack
protocols = imap lmtp
listen = $KEYDESK_MAIL_HOST
base_dir = $dir/dovecot/run
state_dir = $dir/dovecot/state
log_path = $dir/dovecot.log
hostname = keydesk-mail.localhost
postmaster_address = postmaster@keydesk.test
shutdown_clients = yes

ssl = yes
ssl_cert = <$dir/tls/cert.pem
ssl_key = <$dir/tls/key.pem
ssl_min_protocol = TLSv1.2

# Loopback only: plain passwords without TLS are fine.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $dir/dovecot/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$dir/home/%Lu
}
first_valid_uid = $uid
last_valid_uid = $uid
mail_location = maildir:$dir/mail/%Lu

# Plus-addressing: support+box@keydesk.test lands in the folder "box" (created on delivery),
# so every intake test has a mailbox of its own on the shared server.
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes
lda_mailbox_autocreate = yes
lda_mailbox_autosubscribe = yes

namespace inbox {
  inbox = yes
  mailbox Drafts {
    special_use = \Drafts
  }
  mailbox Sent {
    special_use = \Sent
  }
  mailbox Trash {
    special_use = \Trash
  }
  mailbox Junk {
    special_use = \Junk
  }
}

service imap-login {
  inet_listener imap {
    address = $KEYDESK_MAIL_HOST
    port = $KEYDESK_MAIL_IMAP_PORT
  }
  inet_listener imaps {
    address = $KEYDESK_MAIL_HOST
    port = $KEYDESK_MAIL_IMAPS_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = $KEYDESK_MAIL_HOST
    port = $KEYDESK_MAIL_LMTP_PORT
  }
}
EOF

    # --- Postfix ---
    : >"$dir/postfix/conf/vmailbox"
    for user in "${KEYDESK_MAIL_USERS[@]}"; do
        printf '%s OK\n' "$user" >>"$dir/postfix/conf/vmailbox"
    done

    cat >"$dir/postfix/conf/main.cf" <<EOF
# Written by scripts/lib/mailstack.sh; rewritten at every start.
compatibility_level = 3.6
queue_directory = $dir/postfix/spool
data_directory = $dir/postfix/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = keydesk-postfix
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir

myhostname = keydesk-mail.localhost
mydomain = localhost
myorigin = \$myhostname
mydestination =
inet_interfaces = $KEYDESK_MAIL_HOST
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mynetworks_style = host
append_dot_mydomain = no
biff = no
smtpd_banner = \$myhostname ESMTP keydesk test stack
smtpd_peername_lookup = no
message_size_limit = 20971520

# Only the test users, delivered to Dovecot over LMTP.
virtual_mailbox_domains = ${KEYDESK_MAIL_DOMAINS[*]}
virtual_mailbox_maps = texthash:$dir/postfix/conf/vmailbox
virtual_transport = lmtp:inet:$KEYDESK_MAIL_HOST:$KEYDESK_MAIL_LMTP_PORT
recipient_delimiter = +
relay_domains =
relayhost =
alias_maps =
alias_database =
local_recipient_maps =

# Nothing ever leaves this machine: loopback clients only, other domains are
# refused at RCPT time, and whatever else (e.g. a bounce) would go out is
# sent to the error transport. master.cf has no smtp client at all.
smtpd_client_restrictions = permit_mynetworks, reject
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unlisted_recipient
default_transport = error:5.7.1 outside mail is disabled in the keydesk test stack
relay_transport = error:5.7.1 outside mail is disabled in the keydesk test stack
local_transport = error:5.7.1 no local delivery in the keydesk test stack
notify_classes =
delay_warning_time = 0
bounce_queue_lifetime = 0
smtputf8_enable = yes

smtpd_tls_cert_file = $dir/tls/cert.pem
smtpd_tls_key_file = $dir/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 0
EOF

    cat >"$dir/postfix/conf/master.cf" <<EOF
# Written by scripts/lib/mailstack.sh; rewritten at every start.
# service type  private unpriv  chroot  wakeup  maxproc command + args
$KEYDESK_MAIL_HOST:$KEYDESK_MAIL_SMTP_PORT inet n - n - - smtpd
$KEYDESK_MAIL_HOST:$KEYDESK_MAIL_SMTPS_PORT inet n - n - - smtpd
  -o syslog_name=keydesk-postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

start_mail_stack() {
    local dir
    dir=$(_keydesk_mail_dir)
    # Unix sockets (e.g. $dir/postfix/spool/private/proxywrite,
    # $dir/dovecot/run/login/...) must fit in 108 bytes.
    if [ ${#dir} -gt 60 ]; then
        echo "keydesk: KEYDESK_MAILSTACK_DIR=$dir is too long (max 60 characters: unix socket paths live under it)" >&2
        return 1
    fi
    # One start at a time (e.g. two test runs at once on a stopped stack).
    # The daemons must not inherit the lock's fd, or they would hold the
    # lock for as long as they run: see "{_KEYDESK_MAIL_LOCK_FD}>&-" below.
    mkdir -p "$dir" || return 1
    exec {_KEYDESK_MAIL_LOCK_FD}>"$dir/.start.lock" || return 1
    if ! flock -w 60 "$_KEYDESK_MAIL_LOCK_FD"; then
        echo "keydesk: another start of the mail stack in $dir holds $dir/.start.lock for over 60s" >&2
        exec {_KEYDESK_MAIL_LOCK_FD}>&-
        return 1
    fi
    local rc=0
    _keydesk_mail_start "$dir" || rc=$?
    exec {_KEYDESK_MAIL_LOCK_FD}>&-   # closing it releases the lock
    return "$rc"
}

# start_mail_stack's body, run under its lock.
_keydesk_mail_start() {
    local dir=$1 pf_up=0 dc_up=0
    _keydesk_postfix_running "$dir" && pf_up=1
    _keydesk_dovecot_running "$dir" && dc_up=1

    if [ $pf_up -eq 1 ] && [ $dc_up -eq 1 ] &&
        _keydesk_port_answers "$KEYDESK_MAIL_SMTP_PORT" 220 &&
        _keydesk_port_answers "$KEYDESK_MAIL_IMAP_PORT" '* OK' &&
        _keydesk_port_answers "$KEYDESK_MAIL_IMAPS_PORT"; then
        _keydesk_mail_export "$dir"
        return 0
    fi

    if [ "$(id -u)" -ne 0 ]; then
        echo "keydesk: need root to start the mail stack" >&2
        return 1
    fi
    local cmd
    for cmd in /usr/sbin/postfix /usr/sbin/dovecot /usr/lib/dovecot/lmtp; do
        if [ ! -x "$cmd" ]; then
            echo "keydesk: $cmd missing; run ensure_mail_packages first" >&2
            return 1
        fi
    done

    # A port taken by something else would make the start fail obscurely.
    local port
    for port in "$KEYDESK_MAIL_SMTP_PORT" "$KEYDESK_MAIL_SMTPS_PORT"; do
        if [ $pf_up -eq 0 ] && _keydesk_port_answers "$port"; then
            echo "keydesk: 127.0.0.1:$port is already in use by something other than the keydesk Postfix in $dir" >&2
            return 1
        fi
    done
    for port in "$KEYDESK_MAIL_IMAP_PORT" "$KEYDESK_MAIL_IMAPS_PORT" "$KEYDESK_MAIL_LMTP_PORT"; do
        if [ $dc_up -eq 0 ] && _keydesk_port_answers "$port"; then
            echo "keydesk: 127.0.0.1:$port is already in use by something other than the keydesk Dovecot in $dir" >&2
            return 1
        fi
    done

    # Only rewrite config when nothing runs from it (a live daemon keeps
    # reading its files, e.g. the passwd-file).
    if [ $pf_up -eq 0 ] && [ $dc_up -eq 0 ]; then
        _keydesk_mail_configure "$dir" || return 1
    elif [ ! -s "$dir/dovecot/dovecot.conf" ] || [ ! -s "$dir/postfix/conf/main.cf" ]; then
        echo "keydesk: mail stack in $dir half running without its config; run stop_mail_stack" >&2
        return 1
    fi

    # The daemons inherit stdout/stderr: never capture them with $(...),
    # which would wait for the daemon to exit. A file it is.
    local out=$dir/start.out
    if [ $dc_up -eq 0 ]; then
        rm -f "$dir/dovecot/run/master.pid"   # stale, else dovecot may refuse
        if ! /usr/sbin/dovecot -c "$dir/dovecot/dovecot.conf" \
                >"$out" 2>&1 </dev/null {_KEYDESK_MAIL_LOCK_FD}>&-; then
            cat "$out" >&2
            rm -f "$out"
            tail -n 20 "$dir/dovecot.log" >&2 2>/dev/null || true
            echo "keydesk: could not start Dovecot (config $dir/dovecot/dovecot.conf, log $dir/dovecot.log)" >&2
            return 1
        fi
    fi
    if [ $pf_up -eq 0 ]; then
        # "postfix start" runs "postfix check", which creates the queue
        # directories with the right owners on the first start.
        if ! /usr/sbin/postfix -c "$dir/postfix/conf" start \
                >"$out" 2>&1 </dev/null {_KEYDESK_MAIL_LOCK_FD}>&-; then
            cat "$out" >&2   # postfix-script repeats the log lines there
            rm -f "$out"
            echo "keydesk: could not start Postfix (config $dir/postfix/conf, log $dir/postfix.log)" >&2
            return 1
        fi
    fi

    local _ ok=0
    for _ in $(seq 1 60); do
        if _keydesk_port_answers "$KEYDESK_MAIL_SMTP_PORT" 220 &&
            _keydesk_port_answers "$KEYDESK_MAIL_SMTPS_PORT" &&
            _keydesk_port_answers "$KEYDESK_MAIL_IMAP_PORT" '* OK' &&
            _keydesk_port_answers "$KEYDESK_MAIL_IMAPS_PORT" &&
            _keydesk_port_answers "$KEYDESK_MAIL_LMTP_PORT" 220; then
            ok=1
            break
        fi
        sleep 0.5
    done
    if [ $ok -eq 0 ]; then
        tail -n 20 "$dir/dovecot.log" "$dir/postfix.log" >&2 2>/dev/null || true
        echo "keydesk: mail stack in $dir did not answer on 127.0.0.1:$KEYDESK_MAIL_SMTP_PORT/$KEYDESK_MAIL_SMTPS_PORT (SMTP) and $KEYDESK_MAIL_IMAP_PORT/$KEYDESK_MAIL_IMAPS_PORT (IMAP) within 30s" >&2
        return 1
    fi
    _keydesk_mail_export "$dir"
}

stop_mail_stack() {
    local dir rc=0 _
    dir=$(_keydesk_mail_dir)
    if _keydesk_postfix_running "$dir"; then
        /usr/sbin/postfix -c "$dir/postfix/conf" stop >/dev/null 2>&1 || rc=1
    fi
    if _keydesk_dovecot_running "$dir"; then
        /usr/sbin/dovecot -c "$dir/dovecot/dovecot.conf" stop >/dev/null 2>&1 || rc=1
    fi
    # Both return before their master has exited: wait (bounded).
    for _ in $(seq 1 40); do
        _keydesk_postfix_running "$dir" || _keydesk_dovecot_running "$dir" || break
        sleep 0.25
    done
    if _keydesk_postfix_running "$dir" || _keydesk_dovecot_running "$dir"; then
        echo "keydesk: mail stack in $dir did not stop within 10s" >&2
        return 1
    fi
    return "$rc"
}

# restart_dovecot: stops Dovecot alone (Postfix stays up) and starts it again,
# for the fault tests (tests/faults.rs). Mail is kept: the Maildirs are on disk.
restart_dovecot() {
    local dir _
    dir=$(_keydesk_mail_dir)
    if _keydesk_dovecot_running "$dir"; then
        /usr/sbin/dovecot -c "$dir/dovecot/dovecot.conf" stop >/dev/null 2>&1 || return 1
    fi
    for _ in $(seq 1 40); do
        _keydesk_dovecot_running "$dir" || break
        sleep 0.25
    done
    start_mail_stack
}
