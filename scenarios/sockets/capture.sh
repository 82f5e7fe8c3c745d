#!/bin/sh
# Captures the socket tables of closewait.py into tests/fixtures/sockets/.
# Needs root (a private network namespace keeps other sockets out of the tables), ss and
# netstat (Debian: iproute2, net-tools).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../tests/fixtures/sockets}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec unshare -n sh -c '
set -eu
ip link set lo up
fifo=$(mktemp -u); mkfifo "$fifo"
python3 "$1/closewait.py" <"$fifo" >"$fifo.out" &
pid=$!
exec 3>"$fifo"
while ! grep -q ready "$fifo.out" 2>/dev/null; do sleep 0.1; done
ss -tanp >"$2/ss-tanp.txt"
ss -tan >"$2/ss-tan.txt"
ss -tn >"$2/ss-tn.txt"
ss -tn state close-wait >"$2/ss-tn-state-close-wait.txt"
netstat -anp >"$2/netstat-anp.txt" 2>/dev/null
netstat -an >"$2/netstat-an.txt"
netstat -a >"$2/netstat-a.txt"
cat /proc/net/tcp >"$2/proc-net-tcp.txt"
cat /proc/net/tcp6 >"$2/proc-net-tcp6.txt"
echo done >&3
wait "$pid"
rm -f "$fifo" "$fifo.out"
' sh "$here" "$out"
