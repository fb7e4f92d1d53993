// The official Node SDK against the studio, as a tool that speaks OpenAI's speech API would call it:
// `node speech.mjs <baseURL> <outDir>` with the key in OPENAI_API_KEY. Each call's audio goes to
// <outDir>/<name>.mp3 and its headers to <outDir>/calls.json; tests/test_openai_node.py checks them.
import { writeFile } from "node:fs/promises";
import OpenAI from "openai";

const [baseURL, outDir] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY });
const input = "Hello from the Node SDK.";

const calls = {
  // What Open WebUI, SillyTavern and n8n send: OpenAI's model and voice names, nothing else.
  plain: { model: "tts-1", voice: "alloy", input },
  // The same with a seed (an extra body field), so the take can be made again in Python.
  seeded: { model: "tts-1", voice: "alloy", input, seed: 7 },
  // The newer shapes: the voice as an object, and gpt-4o-mini-tts with instructions.
  object: { model: "tts-1-hd", voice: { id: "alloy" }, input, seed: 7 },
  instructed: { model: "gpt-4o-mini-tts", voice: "alloy", input, instructions: "Speak slowly, in a whisper.", seed: 7 },
};

const seen = {};
for (const [name, body] of Object.entries(calls)) {
  const response = await client.audio.speech.create(body);
  await writeFile(`${outDir}/${name}.mp3`, Buffer.from(await response.arrayBuffer()));
  seen[name] = Object.fromEntries(["content-type", "x-seed", "x-model"].map((h) => [h, response.headers.get(h)]));
}
await writeFile(`${outDir}/calls.json`, JSON.stringify(seen, null, 2));
