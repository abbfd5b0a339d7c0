# report.awk - runs.tsv of bench/agent.sh -> Markdown: per-round figures,
# medians per system, and the agent/leverd ratios (round by round and of
# the medians). Input columns: round system conns rps p50 p99 non2xx sockerr requests.
function median(arr, n,    i, j, t) {
    for (i = 2; i <= n; i++) { t = arr[i]; j = i - 1
        while (j >= 1 && arr[j] > t) { arr[j + 1] = arr[j]; j-- } arr[j + 1] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
NR == 1 { next }
{
    key = $1 SUBSEP $2; rps[key] = $4; p99[key] = $6; p50[key] = $5; errs[key] = $7 + $8
    if (!($2 in seen)) { seen[$2] = 1; sys[++ns] = $2 }
    if ($1 > rounds) rounds = $1
}
END {
    print "## Runs"
    print ""
    print "| round | system | req/s | p50 ms | p99 ms | errors |"
    print "|---|---|---:|---:|---:|---:|"
    for (r = 1; r <= rounds; r++)
        for (i = 1; i <= ns; i++) { k = r SUBSEP sys[i]; if (k in rps)
            printf "| %d | %s | %.0f | %.3f | %.3f | %d |\n", r, sys[i], rps[k], p50[k], p99[k], errs[k] }
    print ""
    print "## Medians and ratios (agent / leverd)"
    print ""
    print "| system | median req/s | median p99 ms | throughput ratio | p99 ratio (leverd p99 / this p99) | per-round throughput ratios |"
    print "|---|---:|---:|---:|---:|---|"
    for (i = 1; i <= ns; i++) {
        n = 0; m = 0
        for (r = 1; r <= rounds; r++) { k = r SUBSEP sys[i]; if (k in rps) { a[++n] = rps[k]; b[++m] = p99[k] } }
        mr[sys[i]] = n ? median(a, n) : 0; mp[sys[i]] = m ? median(b, m) : 0
    }
    for (i = 1; i <= ns; i++) {
        s = sys[i]; rl = ""
        for (r = 1; r <= rounds; r++) {
            k = r SUBSEP s; kl = r SUBSEP "leverd"
            if ((k in rps) && (kl in rps) && rps[kl] > 0) rl = rl sprintf("%s%.2f", rl == "" ? "" : ", ", rps[k] / rps[kl])
        }
        tr = mr["leverd"] > 0 ? sprintf("%.2f", mr[s] / mr["leverd"]) : "n/a"
        pr = mp[s] > 0 ? sprintf("%.2f", mp["leverd"] / mp[s]) : "n/a"
        printf "| %s | %.0f | %.3f | %s | %s | %s |\n", s, mr[s], mp[s], tr, pr, rl
    }
}
