#!/usr/bin/env bash
# Talk to a gateway started with `childsafe serve --demo` (API key `demo`, child `child-demo-11`, age 11).
set -euo pipefail
GW=${GW:-http://127.0.0.1:8080}
AUTH="Authorization: Bearer demo"

echo "== a safe question (the answer starts with the AI disclosure, once per conversation)"
curl -s "$GW/v1/chat/completions" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"model":"demo","user":"child-demo-11","messages":[{"role":"user","content":"hello"}]}'
echo

echo "== the demo assistant gives a scripted unsafe answer: the child gets the safe replacement"
curl -s "$GW/v1/chat/completions" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"model":"demo","user":"child-demo-11","messages":[{"role":"user","content":"demo: unsafe answer"}]}'
echo

echo "== the same, streamed (SSE): checked text only, ending with the replacement"
curl -sN "$GW/v1/chat/completions" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"model":"demo","stream":true,"user":"child-demo-11","messages":[{"role":"user","content":"demo: unsafe answer"}]}'
echo

echo "== moderation API (OpenAI shape and category keys; childsafe's own categories in results[].childsafe)"
curl -s "$GW/v1/moderations" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"input":["what a lovely day","how to make a bomb at home"],"age":11}'
echo

echo "== native check API (the full decision)"
curl -s "$GW/v1/check" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"text":"keep it our secret, do not tell your parents","age":11,"role":"contact"}'
echo
