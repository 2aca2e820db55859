#!/usr/bin/env bash
# Side-by-side comparison of Strata binaries (and optionally nginx) on one load, rounds
# alternating between the servers (the first server of a round rotates), so that a shared
# machine's load falls on all of them alike. Prints per round, for each server, the load's
# ops/s and MiB/s and the server's CPU (utime + stime from /proc/PID/stat, all threads) per
# request, then the medians.
#
#   bash bench/ab.sh S3BENCH BIN_A BIN_B ... -- S3BENCH_LOAD_ARGS...
#
# A "BIN" of `nginx` serves the same bytes from files (GET loads only; --no-sign is not added:
# it gets the same signed requests, as in bench/run.sh). Knobs: AB_ROUNDS (4), AB_PREP (s3bench
# arguments, `;`-separated runs, to fill every server first, e.g.
# "--op put --size 4k --count 1000 --prefix g4k/"), AB_TMPDIR (/var/tmp).
# Example (PUT 64 MiB, 8 objects per round):
#   bash bench/ab.sh build/x/bench/s3bench build/old/strata build/x/strata -- \
#        --op put --size 64m --prefix p/ --concurrency 1 --count 8
set -uo pipefail
SB=$(realpath "${1:?usage: ab.sh S3BENCH BIN... -- ARGS}")
shift
BINS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    if [ "$1" = nginx ]; then BINS+=(nginx); else BINS+=("$(realpath "$1")"); fi
    shift
done
shift
LOAD=("$@")
ROUNDS=${AB_ROUNDS:-4}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
export STRATA_ROOT_ACCESS_KEY=AKIASTRATABENCH00001
export STRATA_ROOT_SECRET_KEY=strata-bench-secret-key-0000000000000001
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
BASE=$(mktemp -d "${AB_TMPDIR:-/var/tmp}/strata-ab.XXXXXX") || exit 2
chmod 755 "$BASE"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$BASE"
}
trap cleanup EXIT

wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

EPS=() SPIDS=()
NGX_WWW=
for i in "${!BINS[@]}"; do
    port=$("$SB" --free-port)
    if [ "${BINS[$i]}" = nginx ]; then
        ngx=$BASE/nginx
        NGX_WWW=$ngx/www
        mkdir -p "$NGX_WWW" "$ngx/tmp" && chmod 755 "$ngx" "$NGX_WWW"
        cat >"$ngx/nginx.conf" <<EOF
worker_processes $(nproc);
pid $ngx/nginx.pid;
error_log $ngx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
    access_log off; sendfile on; tcp_nopush on; tcp_nodelay on;
    keepalive_requests 100000; keepalive_timeout 65;
    default_type application/octet-stream;
    client_body_temp_path $ngx/tmp/body; proxy_temp_path $ngx/tmp/proxy;
    fastcgi_temp_path $ngx/tmp/fastcgi; uwsgi_temp_path $ngx/tmp/uwsgi; scgi_temp_path $ngx/tmp/scgi;
    server { listen 127.0.0.1:$port; root $NGX_WWW; location / { } }
}
EOF
        "$NGINX" -p "$ngx" -c "$ngx/nginx.conf" -e "$ngx/error.log" >>"$ngx/out.log" 2>&1 &
    else
        "${BINS[$i]}" server --data "$BASE/d$i" --listen "127.0.0.1:$port" >>"$BASE/s$i.log" 2>&1 &
    fi
    PIDS+=($!)
    SPIDS+=($!)
    EPS+=("http://127.0.0.1:$port")
    wait_port "$port" || { echo "ab: server $i did not start" >&2; exit 1; }
    if [ "${BINS[$i]}" != nginx ]; then
        "$SB" --endpoint "${EPS[$i]}" --bucket abench --op mkbucket || exit 1
    fi
done

# nginx's worker processes are children of its master: sum the CPU of the whole group
cpu_ticks() {
    local pid=$1 t=0 p
    for p in $pid $(pgrep -P "$pid" 2>/dev/null); do
        # fields 14, 15 after the command name (which may hold spaces: cut at the last ')')
        t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
    done
    echo "$t"
}

if [ -n "${AB_PREP:-}" ]; then
    IFS=';' read -ra PREPS <<<"$AB_PREP"
    for prep in "${PREPS[@]}"; do
        read -ra pa <<<"$prep"
        for i in "${!BINS[@]}"; do
            if [ "${BINS[$i]}" = nginx ]; then
                "$SB" --bucket abench "${pa[@]}" --op mkfiles --dir "$NGX_WWW" --no-sign --quiet >/dev/null
            else
                "$SB" --endpoint "${EPS[$i]}" --bucket abench "${pa[@]}" --quiet >/dev/null || exit 1
            fi
        done
    done
fi

HZ=$(getconf CLK_TCK)
OUT=$BASE/rounds.txt
for r in $(seq "$ROUNDS"); do
    n=${#BINS[@]}
    for k in $(seq 0 $((n - 1))); do
        i=$(((k + r - 1) % n))
        c0=$(cpu_ticks "${SPIDS[$i]}")
        res=$("$SB" --endpoint "${EPS[$i]}" --bucket abench "${LOAD[@]}" 2>"$BASE/sb.err" | grep '^RESULT')
        c1=$(cpu_ticks "${SPIDS[$i]}")
        [ -n "$res" ] || { echo "ab: load failed on server $i" >&2; cat "$BASE/sb.err" >&2; exit 1; }
        ops=$(sed 's/.* ops=\([0-9]*\).*/\1/' <<<"$res")
        ops_s=$(sed 's/.*ops_s=\([0-9.]*\).*/\1/' <<<"$res")
        mib_s=$(sed 's/.*mib_s=\([0-9.]*\).*/\1/' <<<"$res")
        cpu_ms=$(awk -v a="$c0" -v b="$c1" -v hz="$HZ" -v n="$ops" 'BEGIN{printf "%.3f", (b-a)*1000/hz/n}')
        echo "$r $i $ops_s $mib_s $cpu_ms" >>"$OUT"
        printf 'round %d  server %d (%s)  %10s ops/s  %10s MiB/s  %8s ms CPU/op\n' "$r" "$i" \
            "$(basename "$(dirname "${BINS[$i]}")")/$(basename "${BINS[$i]}")" "$ops_s" "$mib_s" "$cpu_ms"
    done
done
med() { sort -g | awk '{a[NR]=$1} END{ if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2 }'; }
echo "medians of $ROUNDS rounds:"
for i in "${!BINS[@]}"; do
    printf 'server %d %-40s ops/s %10s  MiB/s %10s  ms CPU/op %8s\n' "$i" "${BINS[$i]}" \
        "$(awk -v i="$i" '$2==i{print $3}' "$OUT" | med)" \
        "$(awk -v i="$i" '$2==i{print $4}' "$OUT" | med)" \
        "$(awk -v i="$i" '$2==i{print $5}' "$OUT" | med)"
done
