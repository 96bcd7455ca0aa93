// A drawing made into the picture a network is given, as predict.py's to_mnist makes it, so that the
// same strokes give the same input on the page and in draw.py:
//
//     const pixels = toMnist(ink, width, height);   // Float32Array(784), or null when nothing is drawn
//
// ink: a Float32Array of width * height values in [0, 1], 0 paper, 1 ink, row by row. The ink's box
// is cropped, its strokes widened when far thinner than MNIST's, scaled to 20 pixels on its longer
// side and put in a 28 x 28 frame with its centre of mass at the frame's centre (14, 14).
// Fashion-MNIST frames its pictures otherwise (FRAMINGS).

export const FRAME_SIZE = 28;
const CENTRE = FRAME_SIZE / 2;
const HALFWAY = 1e-3; // pixels: see centre
// Stroke width over the digit's longer side: 5% of MNIST's digits are thinner than THINNEST, half
// thinner than TYPICAL (predict.py).
const THINNEST = 0.06;
const TYPICAL = 0.09;

export const FRAMINGS = {
  mnist: { size: 20, byMass: true, thicken: true },
  fashion: { size: FRAME_SIZE, byMass: false, thicken: false },
};

// An image: { width, height, pixels: Float32Array(width * height) }.
const image = (width, height, pixels = new Float32Array(width * height)) => ({ width, height, pixels });

export function toMnist(ink, width, height, framing = FRAMINGS.mnist) {
  const box = inkBox(image(width, height, ink));
  if (box === null) return null;
  let digit = box;
  if (framing.thicken) digit = thicken(digit);
  const scale = framing.size / Math.max(digit.width, digit.height);
  const outHeight = Math.max(1, roundHalfEven(digit.height * scale));
  const outWidth = Math.max(1, roundHalfEven(digit.width * scale));
  const scaled = resize(digit, outWidth, outHeight);
  for (let i = 0; i < scaled.pixels.length; i++) {
    scaled.pixels[i] = Math.min(scaled.pixels[i], 1); // weighted means of ink, but rounding can pass 1
  }
  return centre(scaled, framing.byMass).pixels;
}

// Python's round(): halves to the even neighbour, where Math.round takes them up.
function roundHalfEven(x) {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}

// The smallest box around all the ink, cut out; null when there is none.
function inkBox({ width, height, pixels }) {
  let top = height, left = width, bottom = -1, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (pixels[y * width + x] !== 0) {
        top = Math.min(top, y); bottom = Math.max(bottom, y);
        left = Math.min(left, x); right = Math.max(right, x);
      }
    }
  }
  if (bottom < 0) return null;
  const box = image(right - left + 1, bottom - top + 1);
  for (let y = 0; y < box.height; y++) {
    box.pixels.set(pixels.subarray((top + y) * width + left, (top + y) * width + right + 1), y * box.width);
  }
  return box;
}

// The digit widened to MNIST's typical stroke width when its strokes are much thinner than MNIST's.
function thicken(digit) {
  const size = Math.max(digit.width, digit.height);
  const width = strokeWidth(digit);
  if (width >= THINNEST * size) return digit;
  return dilate(digit, roundHalfEven(TYPICAL * size - width) + 1);
}

// Twice the area of the solid ink over the length of its outline: a stroke w wide and L long covers
// w L pixels, and its outline is 2 L long.
function strokeWidth({ width, height, pixels }) {
  const solid = (x, y) => x >= 0 && y >= 0 && x < width && y < height && pixels[y * width + x] > 0.5;
  let area = 0, outline = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!solid(x, y)) continue;
      area++;
      if (!(solid(x - 1, y) && solid(x + 1, y) && solid(x, y - 1) && solid(x, y + 1))) outline++;
    }
  }
  return (2 * area) / Math.max(outline, 1);
}

// Each pixel the largest of the size x size square reaching up and left from it: the image grows by
// size - 1 pixels, and so does every stroke's width. A square is a row swept along a column: the rows
// first, then the columns (the rows of the picture turned).
function dilate(digit, size) {
  return transpose(dilateRows(transpose(dilateRows(digit, size)), size));
}

// Each pixel the largest of the size pixels ending at it in its row: size - 1 pixels wider.
function dilateRows(picture, size) {
  const wider = image(picture.width + size - 1, picture.height);
  for (let y = 0; y < picture.height; y++) {
    for (let x = 0; x < wider.width; x++) {
      let largest = 0;
      for (let from = Math.max(0, x - size + 1); from <= Math.min(x, picture.width - 1); from++) {
        largest = Math.max(largest, picture.pixels[y * picture.width + from]);
      }
      wider.pixels[y * wider.width + x] = largest;
    }
  }
  return wider;
}

// The picture with its rows as columns.
function transpose(picture) {
  const turned = image(picture.height, picture.width);
  for (let y = 0; y < picture.height; y++) {
    for (let x = 0; x < picture.width; x++) {
      turned.pixels[x * turned.width + y] = picture.pixels[y * picture.width + x];
    }
  }
  return turned;
}

// The image resampled to outWidth x outHeight: rows @ image @ columns^T, with predict.py's weights.
function resize(digit, outWidth, outHeight) {
  const rows = resizeWeights(outHeight, digit.height);
  const columns = resizeWeights(outWidth, digit.width);
  const across = image(outWidth, digit.height); // each row resampled
  for (let y = 0; y < digit.height; y++) {
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let i = 0; i < digit.width; i++) sum += digit.pixels[y * digit.width + i] * columns[x][i];
      across.pixels[y * outWidth + x] = sum;
    }
  }
  const scaled = image(outWidth, outHeight);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let i = 0; i < digit.height; i++) sum += rows[y][i] * across.pixels[i * outWidth + x];
      scaled.pixels[y * outWidth + x] = sum;
    }
  }
  return scaled;
}

// Weights [nOut][nIn] that resample a row of nIn pixels to nOut. Shrinking averages the input pixels
// each output pixel covers, in proportion to how much of them it covers, so that thin strokes turn
// grey instead of vanishing between samples; enlarging interpolates between the two nearest pixels.
function resizeWeights(nOut, nIn) {
  const ratio = nIn / nOut;
  const weights = [];
  for (let o = 0; o < nOut; o++) {
    const row = new Float32Array(nIn);
    if (ratio >= 1) {
      const start = o * ratio, end = (o + 1) * ratio;
      for (let i = 0; i < nIn; i++) row[i] = Math.max(Math.min(end, i + 1) - Math.max(start, i), 0) / ratio;
    } else {
      const centre = Math.min(Math.max((o + 0.5) * ratio - 0.5, 0), nIn - 1);
      for (let i = 0; i < nIn; i++) row[i] = Math.max(1 - Math.abs(centre - i), 0);
    }
    weights.push(row);
  }
  return weights;
}

// The 28 x 28 frame with the picture moved by whole pixels so that its centre of mass is nearest the
// frame's centre (byMass), or its box in the middle; what would pass the border is cut off. A centre
// of mass on a half pixel (one straight stroke's is) moves down and right, and so does one that falls
// short of halfway by less than HALFWAY, as in support/framing.py: the last bits of predict.py's
// float32 sums and of these double ones then cannot place it differently.
function centre(picture, byMass) {
  const { width, height, pixels } = picture;
  let top = Math.floor((FRAME_SIZE - height) / 2), left = Math.floor((FRAME_SIZE - width) / 2);
  if (byMass) {
    let mass = 0, rowMoment = 0, columnMoment = 0;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const value = pixels[y * width + x];
        mass += value; rowMoment += y * value; columnMoment += x * value;
      }
    }
    top = Math.floor(CENTRE - rowMoment / mass + 0.5 + HALFWAY);
    left = Math.floor(CENTRE - columnMoment / mass + 0.5 + HALFWAY);
  }
  const frame = image(FRAME_SIZE, FRAME_SIZE);
  for (let y = Math.max(top, 0); y < Math.min(top + height, FRAME_SIZE); y++) {
    for (let x = Math.max(left, 0); x < Math.min(left + width, FRAME_SIZE); x++) {
      frame.pixels[y * FRAME_SIZE + x] = pixels[(y - top) * width + (x - left)];
    }
  }
  return frame;
}
