// The forward pass of a network exported by export.py --web, in plain JavaScript.
//
//     import { loadNetwork } from "./recognizer.js";
//     const network = await loadNetwork();          // network.json beside this file, or loadNetwork(url)
//     const probabilities = network.classify(pixels);
//
// pixels: a Float32Array of 784 values in [0, 1], ink bright, the 28 x 28 picture row by row from the
// top, as MNIST's; the result: a Float32Array of the ten probabilities, class by class.
//
// The layers compute what nn.Dense, conv.Conv2D and nn.BatchNorm in use compute in numpy, in the same
// layout: dense weights (inputs, outputs); convolution weights (kernel * kernel * inChannels, channels),
// rows in (dy, dx, inChannel) order; a batch normalisation's scale and shift (features); images as
// flat arrays, channels last (row, column, channel). Each layer's outputs
// are kept in float32, as numpy keeps them; its sums in double precision, where numpy's are float32,
// which makes the probabilities differ from numpy's in their last bits only.

const FORMAT = "handwriting-recognition web network";
const LEAKY_SLOPE = 0.01;

const ACTIVATIONS = {
  identity: (z) => z,
  relu: (z) => (z > 0 ? z : 0),
  "leaky-relu": (z) => (z > 0 ? z : LEAKY_SLOPE * z),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  tanh: Math.tanh,
};

export async function loadNetwork(url = new URL("network.json", import.meta.url)) {
  const description = await (await fetchOk(url)).json();
  if (description.format !== FORMAT) {
    throw new Error(`${url} is not a network written by export.py --web`);
  }
  const response = await fetchOk(new URL(description.weightsFile, new URL(url, location.href)));
  return new Network(description, await unpack(response, description.floats, description.weightsFile));
}

async function fetchOk(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`${url}: ${response.status} ${response.statusText}`);
  }
  return response;
}

// weights.bin (support/web_export.py): gzip-compressed, the top three bytes of every float32, the
// first bytes of all the floats first, then the second bytes, then the third; the lowest byte is 0.
async function unpack(response, count, name) {
  const stream = response.body.pipeThrough(new DecompressionStream("gzip"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  if (bytes.length !== 3 * count) {
    throw new Error(`${name} holds ${bytes.length} bytes, not the ${3 * count} expected`);
  }
  const floats = new Float32Array(count);
  const bits = new Uint32Array(floats.buffer); // the same memory, seen as the floats' bits
  for (let i = 0; i < count; i++) {
    bits[i] = ((bytes[i] << 24) | (bytes[count + i] << 16) | (bytes[2 * count + i] << 8)) >>> 0;
  }
  return floats;
}

export class Network {
  constructor(description, floats) {
    this.classes = description.classes;
    this.dataset = description.dataset;
    this.description = description.description;
    this.output = description.output;
    if (!(this.output in ACTIVATIONS) && this.output !== "softmax") {
      throw new Error(`unknown output function ${this.output}`);
    }
    this.layers = description.layers.map((layer, i) => {
      if (!(layer.type in LAYERS) || !(layer.activation in ACTIVATIONS)) {
        throw new Error(`layer ${i + 1}: a ${layer.activation} ${layer.type} layer, which this page cannot run`);
      }
      const [inputs, outputs] = SHAPES[layer.type](layer);
      const weights = floats.subarray(layer.weights, layer.weights + inputs * outputs);
      const bias = floats.subarray(layer.bias, layer.bias + outputs);
      return { ...layer, weights, bias, forward: LAYERS[layer.type], activate: ACTIVATIONS[layer.activation] };
    });
  }

  classify(pixels) {
    if (pixels.length !== 784) {
      throw new Error(`classify takes 784 pixels (28 x 28), not ${pixels.length}`);
    }
    let values = Float32Array.from(pixels);
    for (const layer of this.layers) {
      values = layer.forward(layer, values);
    }
    return probabilities(this.output, values);
  }
}

// outputs[j] = activation(bias[j] + sum over i of inputs[i] * weights[i][j])
function dense(layer, inputs) {
  const { outputs: n, weights } = layer;
  const sums = new Float64Array(layer.bias);
  for (let i = 0; i < layer.inputs; i++) {
    const x = inputs[i];
    if (x === 0) continue; // most pixels of a digit are paper
    for (let j = 0, row = i * n; j < n; j++) {
      sums[j] += x * weights[row + j];
    }
  }
  return Float32Array.from(sums, layer.activate);
}

// Each filter over every kernel x kernel window, one every `stride` pixels (zeros beyond the padded
// border), then the largest of each pool x pool square, then the bias and the activation, as
// conv.Conv2D orders them.
function convolution(layer, image) {
  const [height, width, inChannels] = layer.inputShape;
  const [outHeight, outWidth, channels] = layer.outputShape;
  const { kernel, padding, stride, pool, weights, bias } = layer;
  const output = new Float32Array(outHeight * outWidth * channels).fill(-Infinity);
  const sums = new Float64Array(channels);
  for (let y = 0; y < outHeight * pool; y++) {
    for (let x = 0; x < outWidth * pool; x++) { // an odd last row or column is pooled away: not computed
      sums.fill(0);
      for (let dy = 0; dy < kernel; dy++) {
        const row = y * stride + dy - padding;
        if (row < 0 || row >= height) continue;
        for (let dx = 0; dx < kernel; dx++) {
          const column = x * stride + dx - padding;
          if (column < 0 || column >= width) continue;
          const pixel = (row * width + column) * inChannels;
          const offset = (dy * kernel + dx) * inChannels;
          for (let c = 0; c < inChannels; c++) {
            const value = image[pixel + c];
            if (value === 0) continue;
            const filterRow = (offset + c) * channels;
            for (let f = 0; f < channels; f++) {
              sums[f] += value * weights[filterRow + f];
            }
          }
        }
      }
      const pooled = (Math.floor(y / pool) * outWidth + Math.floor(x / pool)) * channels;
      for (let f = 0; f < channels; f++) {
        output[pooled + f] = Math.max(output[pooled + f], sums[f]);
      }
    }
  }
  for (let i = 0; i < output.length; i++) {
    output[i] = layer.activate(output[i] + bias[i % channels]);
  }
  return output;
}

// A batch normalisation in use: each value times its feature's scale, plus its shift. Images are
// channels last, so the feature of value i is i % features, for rows and images alike.
function scale(layer, inputs) {
  const { features, weights, bias } = layer;
  return Float32Array.from(inputs, (x, i) => layer.activate(x * weights[i % features] + bias[i % features]));
}

const LAYERS = { dense, conv: convolution, scale };
// The (inputs, outputs) of each kind of layer: its weights are inputs * outputs floats, its bias outputs.
const SHAPES = {
  dense: (layer) => [layer.inputs, layer.outputs],
  conv: (layer) => [layer.kernel * layer.kernel * layer.inputShape[2], layer.outputShape[2]],
  scale: (layer) => [1, layer.features],
};

function probabilities(output, logits) {
  if (output !== "softmax") {
    return Float32Array.from(logits, ACTIVATIONS[output]);
  }
  const largest = Math.max(...logits); // exp of the differences cannot overflow: all <= 0
  const exps = Array.from(logits, (z) => Math.exp(z - largest));
  const total = exps.reduce((sum, e) => sum + e, 0);
  return Float32Array.from(exps, (e) => e / total);
}
