// The oracle: nodemailer's mailparser reads each message file named on the command line (or, with
// --dir DIR, every file in DIR) and prints one JSON line per file: its subject, text, HTML and
// every attachment (name, type, SHA-256, content in base64); an attached message (message/rfc822,
// message/global) is parsed the same way, as `message`. tests/test_mime_differential.py compares
// this with what the gateway read. A test tool only: never a runtime dependency.
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const { simpleParser } = require("mailparser");

const OPTIONS = { skipImageLinks: true, skipTextToHtml: true };

async function parse(source, depth) {
  const mail = await simpleParser(source, OPTIONS);
  const attachments = [];
  for (const a of mail.attachments || []) {
    const item = {
      filename: a.filename || "",
      contentType: a.contentType || "",
      sha256: crypto.createHash("sha256").update(a.content).digest("hex"),
      content: a.content.length <= 1 << 20 ? a.content.toString("base64") : "",
    };
    if (depth < 3 && /^message\/(rfc822|global|news)$/i.test(item.contentType)) {
      try {
        item.message = await parse(a.content, depth + 1);
      } catch (err) {
        item.message = { error: String(err && err.message) };
      }
    }
    attachments.push(item);
  }
  return {
    subject: mail.subject || "",
    text: mail.text || "",
    html: typeof mail.html === "string" ? mail.html : "",
    attachments,
  };
}

async function main() {
  let files = process.argv.slice(2);
  if (files[0] === "--dir") {
    files = fs.readdirSync(files[1]).sort().map((f) => path.join(files[1], f));
  }
  for (const file of files) {
    let out;
    try {
      out = { file, ...(await parse(fs.readFileSync(file), 0)) };
    } catch (err) {
      out = { file, error: String(err && err.message) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}

main();
