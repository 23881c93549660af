// The oracle: nodemailer's mailparser reads each message file named on the command line and
// prints one JSON line per file: its text, its HTML and every attachment (name, type, SHA-256,
// content in base64). tests/test_mime_differential.py compares this with what the gateway read.
"use strict";
const fs = require("fs");
const crypto = require("crypto");
const { simpleParser } = require("mailparser");

async function main() {
  for (const file of process.argv.slice(2)) {
    let out;
    try {
      const mail = await simpleParser(fs.readFileSync(file), { skipImageLinks: true, skipTextToHtml: true });
      out = {
        file,
        subject: mail.subject || "",
        text: mail.text || "",
        html: typeof mail.html === "string" ? mail.html : "",
        attachments: (mail.attachments || []).map((a) => ({
          filename: a.filename || "",
          contentType: a.contentType || "",
          sha256: crypto.createHash("sha256").update(a.content).digest("hex"),
          content: a.content.length <= 1 << 20 ? a.content.toString("base64") : "",
        })),
      };
    } catch (err) {
      out = { file, error: String(err && err.message) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  }
}

main();
