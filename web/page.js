// The page: a canvas to draw on with a mouse, a finger or a pen, and the network reading the drawing
// as it grows. The canvas and its pen are draw.py's: 224 x 224 pixels of ink in [0, 1], a round pen
// with soft edges, so that the same strokes make the same ink, hence the same input, in both.

import { loadNetwork } from "./recognizer.js";
import { FRAME_SIZE, FRAMINGS, toMnist } from "./prepare.js";

const CANVAS = 8 * FRAME_SIZE; // pixels a side: 8 canvas pixels make one of MNIST's
const DIGIT_SIZE = 20;
// MNIST's strokes are about a tenth as wide as its digits are high (draw.py's PEN).
const PEN = ((0.11 * DIGIT_SIZE) / FRAME_SIZE) * CANVAS;
const GUIDE = (CANVAS - (CANVAS * DIGIT_SIZE) / FRAME_SIZE) / 2; // MNIST's 20 x 20 box, from each side
const PROMPTS = { mnist: "draw a digit", fashion: "draw something to wear" };

const canvas = document.getElementById("canvas");
const seen = document.getElementById("seen");
const answer = document.getElementById("answer");
const bars = document.getElementById("bars");
const status = document.getElementById("status");

// What the page holds now; window.board lets the console (and the tests) look at it.
const board = { ink: new Float32Array(CANVAS * CANVAS), last: null, input: null, probabilities: null, pending: false };
window.board = board;

// Draw draw.py's round pen `width` pixels wide from start to end ([x, y] in canvas pixels) onto ink,
// its edges soft over one pixel, as a scanner sees a pen's edge.
export function drawLine(ink, start, end, width) {
  const [x0, y0] = start, [x1, y1] = end;
  const reach = width / 2 + 1;
  const top = Math.max(Math.trunc(Math.min(y0, y1) - reach), 0);
  const bottom = Math.min(Math.trunc(Math.max(y0, y1) + reach) + 1, CANVAS);
  const left = Math.max(Math.trunc(Math.min(x0, x1) - reach), 0);
  const right = Math.min(Math.trunc(Math.max(x0, x1) + reach) + 1, CANVAS);
  const dx = x1 - x0, dy = y1 - y0;
  const length2 = Math.max(dx * dx + dy * dy, 1e-9);
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      // the distance of the pixel to the segment: to its nearest point, found along the segment
      const along = Math.min(Math.max(((x - x0) * dx + (y - y0) * dy) / length2, 0), 1);
      const distance = Math.hypot(x - x0 - along * dx, y - y0 - along * dy);
      const pen = Math.min(Math.max(width / 2 + 0.5 - distance, 0), 1);
      ink[y * CANVAS + x] = Math.max(ink[y * CANVAS + x], pen);
    }
  }
}

// The pointer's place in canvas pixels, whatever size the canvas is shown at.
function place(event) {
  const box = canvas.getBoundingClientRect();
  return [((event.clientX - box.left) * CANVAS) / box.width, ((event.clientY - box.top) * CANVAS) / box.height];
}

function listen(network) {
  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    canvas.setPointerCapture(event.pointerId); // the stroke goes on if the pen slips off the canvas
    board.last = place(event);
    strokeTo(event, network);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!board.last) return;
    // The browser may hand over several moves in one event: each is a piece of the stroke.
    for (const move of event.getCoalescedEvents?.() ?? [event]) strokeTo(move, network);
  });
  for (const name of ["pointerup", "pointercancel"]) {
    canvas.addEventListener(name, () => { board.last = null; });
  }
  document.getElementById("clear").addEventListener("click", () => {
    board.ink.fill(0);
    update(network);
  });
}

function strokeTo(event, network) {
  const end = place(event);
  drawLine(board.ink, board.last, end, PEN);
  board.last = end;
  // Pointer events come faster than the screen shows them: read the drawing once a frame.
  if (!board.pending) {
    board.pending = true;
    requestAnimationFrame(() => update(network));
  }
}

function update(network) {
  board.input = toMnist(board.ink, CANVAS, CANVAS, FRAMINGS[network.dataset]);
  let time = null;
  if (board.input === null) {
    board.probabilities = new Float32Array(network.classes.length);
  } else {
    const start = performance.now();
    board.probabilities = network.classify(board.input);
    time = performance.now() - start;
  }
  showInk();
  showInput();
  showProbabilities(network, time);
  board.pending = false;
}

function showInk() {
  const context = canvas.getContext("2d");
  context.putImageData(greys(board.ink, CANVAS), 0, 0);
  context.setLineDash([4, 4]);
  context.strokeStyle = "rgba(31, 119, 180, 0.5)";
  context.strokeRect(GUIDE, GUIDE, CANVAS - 2 * GUIDE, CANVAS - 2 * GUIDE);
}

function showInput() {
  const input = board.input ?? new Float32Array(FRAME_SIZE * FRAME_SIZE);
  seen.getContext("2d").putImageData(greys(input, FRAME_SIZE), 0, 0);
}

// Ink in [0, 1] as dark grey on white paper.
function greys(ink, size) {
  const picture = new ImageData(size, size);
  for (let i = 0; i < ink.length; i++) {
    const grey = Math.round(255 * (1 - ink[i]));
    picture.data.set([grey, grey, grey, 255], 4 * i);
  }
  return picture;
}

function showProbabilities(network, time) {
  const probabilities = board.probabilities;
  const best = probabilities.indexOf(Math.max(...probabilities));
  bars.querySelectorAll("li").forEach((row, i) => {
    row.querySelector(".bar").style.width = `${100 * probabilities[i]}%`;
    row.querySelector(".value").textContent = `${Math.round(100 * probabilities[i])}%`;
    row.classList.toggle("best", i === best && board.input !== null);
  });
  answer.textContent = board.input === null ? PROMPTS[network.dataset] : network.classes[best];
  answer.classList.toggle("prompt", board.input === null);
  if (time !== null) status.textContent = `${network.description}; read in ${time.toFixed(2)} ms`;
}

function makeBars(network) {
  for (const name of network.classes) {
    const row = document.createElement("li");
    row.innerHTML = '<span class="name"></span><span class="track"><span class="bar"></span></span><span class="value"></span>';
    row.querySelector(".name").textContent = name;
    bars.append(row);
  }
}

async function main() {
  let network;
  try {
    network = await loadNetwork();
  } catch (error) {
    status.textContent = `The network could not be loaded: ${error.message}`;
    throw error;
  }
  document.title = `${PROMPTS[network.dataset]} - handwriting recognition`;
  makeBars(network);
  listen(network);
  update(network);
  status.textContent = network.description;
  board.network = network;
  document.body.classList.add("ready");
}

main();
