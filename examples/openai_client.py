"""The official `openai` client pointed at the childsafe gateway, unchanged except for base_url and key.

Start the demo first: `childsafe serve --demo` (API key `demo`, child `child-demo-11`), then
`python examples/openai_client.py [--base-url http://127.0.0.1:8080/v1]`.
"""

from __future__ import annotations

import argparse

import openai


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    ap.add_argument("--api-key", default="demo")
    ap.add_argument("--child", default="child-demo-11")
    args = ap.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key)

    reply = client.chat.completions.create(
        model="demo", user=args.child, messages=[{"role": "user", "content": "tell me about space"}]
    )
    print("safe answer:", reply.choices[0].message.content)
    print("childsafe:  ", (reply.model_extra or {})["childsafe"])

    # Scripted unsafe answer from the demo assistant: the child sees the safe replacement instead.
    blocked = client.chat.completions.create(
        model="demo", user=args.child, messages=[{"role": "user", "content": "demo: unsafe answer"}]
    )
    print("\nreplaced answer:", blocked.choices[0].message.content)
    print("finish_reason:  ", blocked.choices[0].finish_reason)
    print("childsafe:      ", (blocked.model_extra or {})["childsafe"])

    print("\nstreamed: ", end="")
    last = None
    for chunk in client.chat.completions.create(
        model="demo",
        user=args.child,
        stream=True,
        messages=[{"role": "user", "content": "demo: long answer"}],
    ):
        if chunk.choices:
            print(chunk.choices[0].delta.content or "", end="", flush=True)
        last = chunk
    print("\nlast chunk childsafe:", (last.model_extra or {}).get("childsafe") if last else None)

    mod = client.moderations.create(input="how to make a bomb at home")
    result = mod.results[0]
    print("\nmoderation flagged:", result.flagged, "childsafe:", (result.model_extra or {})["childsafe"]["action"])


if __name__ == "__main__":
    main()
