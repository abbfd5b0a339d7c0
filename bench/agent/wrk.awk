# wrk.awk - one wrk --latency output -> one TSV line:
# round system conns rps p50_ms p99_ms non2xx sockerr requests
function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0;
                 if (v ~ /s$/) return v * 1000; return v + 0 }
/^ +50%/ { p50 = ms($2) }
/^ +99%/ { p99 = ms($2) }
/requests in/ { n = $1 }
/^Requests\/sec/ { rps = $2 }
/Non-2xx/ { bad = $5 }
/Socket errors/ { gsub(",", ""); se = $4 + $6 + $8 + $10 }
END { printf "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", r, s, c, rps == "" ? 0 : rps,
      p50 == "" ? 0 : p50, p99 == "" ? 0 : p99, bad, se, n }
