#!/bin/sh
# make run: start leverd in the foreground on the embedded store, after
# telling the user where the credentials are and one command to try.
set -eu
leverd=${1:-build/leverd}
data=${2:-./lever-data}
listen=${LEVER_LISTEN:-127.0.0.1:7447}
port=${listen##*:}
cat <<MSG
lever: starting leverd on http://$listen (data in $data, stop with Ctrl-C)
lever: the root access key is written to $data/credentials on first start.
lever: try, from this directory in another terminal:

  export AWS_SHARED_CREDENTIALS_FILE=$data/credentials AWS_REGION=us-east-1
  /usr/bin/aws --endpoint-url http://127.0.0.1:$port ssm put-parameter --name /demo/greeting --type String --value hello
  /usr/bin/aws --endpoint-url http://127.0.0.1:$port ssm get-parameter --name /demo/greeting

MSG
exec "$leverd" --data "$data" --listen "$listen"
