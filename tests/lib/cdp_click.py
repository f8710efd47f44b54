#!/usr/bin/python3
"""cdp_click.py - a real browser presses a button: chromedriver starts a
headless Chromium, loads URL, clicks the first element matching SELECTOR
(a CSS selector), waits for the next page and prints its text.  Plain
WebDriver over HTTP (urllib), so nothing beyond Debian's chromium and
chromium-driver is needed.

  cdp_click.py CHROMIUM URL SELECTOR PROFILE-DIR

Exits 0 when the click was made and a new page loaded, 1 otherwise.
"""
import json
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read().decode())["value"]


def main(argv):
    chrome, url, selector, profile = argv[1:5]
    port = free_port()
    drv = subprocess.Popen(["chromedriver", "--port=%d" % port],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port
    try:
        for _ in range(100):
            try:
                call(base, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": chrome,
            "args": ["--headless", "--no-sandbox", "--disable-gpu",
                     "--disable-quic", "--no-first-run",
                     "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--window-size=390,844", "--user-data-dir=" + profile]}}}}
        sid = call(base, "POST", "/session", caps)["sessionId"]
        s = "/session/" + sid
        call(base, "POST", s + "/url", {"url": url})
        before = call(base, "GET", s + "/title")
        el = call(base, "POST", s + "/element",
                  {"using": "css selector", "value": selector})
        eid = list(el.values())[0]
        call(base, "POST", s + "/element/%s/click" % eid, {})
        for _ in range(100):
            title = call(base, "GET", s + "/title")
            if title != before:
                break
            time.sleep(0.1)
        text = call(base, "POST", s + "/execute/sync",
                    {"script": "return document.body.innerText", "args": []})
        print("before: " + before)
        print("after: " + title)
        print(text)
        call(base, "DELETE", s)
        return 0 if title != before else 1
    finally:
        drv.terminate()
        drv.wait()


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as e:  # the caller prints the log
        print("cdp_click.py: %s" % e, file=sys.stderr)
        sys.exit(1)
