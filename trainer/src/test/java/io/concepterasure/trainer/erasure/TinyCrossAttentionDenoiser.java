package io.concepterasure.trainer.erasure;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import io.concepterasure.trainer.nn.Module;
import io.concepterasure.trainer.nn.ModuleList;
import io.concepterasure.trainer.nn.Parameter;
import io.concepterasure.trainer.nn.Tensors;
import java.util.Random;

/**
 * A small real conditional denoiser for the erasure tests: conv in, a timestep embedding,
 * self-attention (attn1), cross-attention on the text (attn2), conv out. Parameters are named like
 * diffusers' so the trainable sets select here what they select in a UNet. Two instances built with
 * the same seed hold the same weights (θ and φ).
 */
final class TinyCrossAttentionDenoiser extends Module implements TrainableNoisePredictor {
  static final int CHANNELS = 4;
  static final int WIDTH = 8;
  static final int TEXT_DIM = 6;

  private final Conv convIn;
  private final Dense timeLinear;
  private final Attention attn1;
  private final Attention attn2;
  private final Conv convOut;

  TinyCrossAttentionDenoiser(NDManager manager, long seed) {
    Random random = new Random(seed);
    convIn = child("conv_in", new Conv(manager, random, CHANNELS, WIDTH));
    timeLinear =
        child("time_embedding", new Holder())
            .child2("linear_1", new Dense(manager, random, WIDTH, WIDTH));
    Holder block = child("transformer", new Holder());
    attn1 = block.child2("attn1", new Attention(manager, random, WIDTH));
    attn2 = block.child2("attn2", new Attention(manager, random, TEXT_DIM));
    convOut = child("conv_out", new Conv(manager, random, WIDTH, CHANNELS));
  }

  @Override
  public NDArray predictNoise(NDArray sample, NDArray timestep, NDArray encoderHiddenStates) {
    long b = sample.getShape().get(0);
    long h = sample.getShape().get(2);
    long w = sample.getShape().get(3);
    NDArray x = convIn.forward(sample);
    NDArray freqs =
        Tensors.mul(
                timestep.getManager().arange(WIDTH / 2).toType(DataType.FLOAT32, false),
                (float) (-Math.log(10000) / (WIDTH / 2)))
            .exp();
    NDArray angles = timestep.reshape(b, 1).mul(freqs.reshape(1, WIDTH / 2));
    NDArray temb = timeLinear.forward(silu(angles.sin().concat(angles.cos(), 1)));
    x = x.add(temb.reshape(b, WIDTH, 1, 1));
    NDArray tokens = x.reshape(b, WIDTH, h * w).transpose(0, 2, 1);
    tokens = tokens.add(attn1.forward(tokens, tokens));
    tokens = tokens.add(attn2.forward(tokens, encoderHiddenStates));
    x = tokens.transpose(0, 2, 1).reshape(b, WIDTH, h, w);
    return convOut.forward(silu(x));
  }

  private static NDArray silu(NDArray x) {
    return x.mul(Activation.sigmoid(x));
  }

  static Parameter init(NDManager manager, Random random, Shape shape, double scale) {
    float[] values = new float[Math.toIntExact(shape.size())];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextGaussian() * scale);
    }
    Parameter p = new Parameter(shape);
    p.set(manager.create(values, shape));
    return p;
  }

  static final class Holder extends Module {
    <M extends Module> M child2(String name, M module) {
      return child(name, module);
    }

    Parameter parameterOf(String name, Parameter p) {
      return parameter(name, p);
    }
  }

  static final class Dense extends Module {
    final Parameter weight;
    final Parameter bias;

    Dense(NDManager manager, Random random, int in, int out) {
      weight = parameter("weight", init(manager, random, new Shape(out, in), 1.0 / Math.sqrt(in)));
      bias = parameter("bias", init(manager, random, new Shape(out), 0.1));
    }

    NDArray forward(NDArray x) {
      return Linear.linear(x, weight.array(), bias.array()).singletonOrThrow();
    }
  }

  static final class Conv extends Module {
    final Parameter weight;
    final Parameter bias;

    Conv(NDManager manager, Random random, int in, int out) {
      weight =
          parameter(
              "weight", init(manager, random, new Shape(out, in, 3, 3), 1.0 / Math.sqrt(in * 9)));
      bias = parameter("bias", init(manager, random, new Shape(out), 0.1));
    }

    NDArray forward(NDArray x) {
      return Conv2d.conv2d(
              x, weight.array(), bias.array(), new Shape(1, 1), new Shape(1, 1), new Shape(1, 1))
          .singletonOrThrow();
    }
  }

  /** Attention of the tokens on a context of width {@code contextDim}, diffusers' names. */
  static final class Attention extends Module {
    final Parameter toQ;
    final Parameter toK;
    final Parameter toV;
    final Dense toOut;

    Attention(NDManager manager, Random random, int contextDim) {
      toQ =
          child("to_q", new Holder())
              .parameterOf(
                  "weight", init(manager, random, new Shape(WIDTH, WIDTH), 1.0 / Math.sqrt(WIDTH)));
      toK =
          child("to_k", new Holder())
              .parameterOf(
                  "weight",
                  init(manager, random, new Shape(WIDTH, contextDim), 1.0 / Math.sqrt(contextDim)));
      toV =
          child("to_v", new Holder())
              .parameterOf(
                  "weight",
                  init(manager, random, new Shape(WIDTH, contextDim), 1.0 / Math.sqrt(contextDim)));
      toOut =
          child("to_out", new ModuleList<Dense>()).add(new Dense(manager, random, WIDTH, WIDTH));
    }

    NDArray forward(NDArray tokens, NDArray context) {
      NDArray q = Linear.linear(tokens, toQ.array()).singletonOrThrow();
      NDArray k = Linear.linear(context, toK.array()).singletonOrThrow();
      NDArray v = Linear.linear(context, toV.array()).singletonOrThrow();
      NDArray weights =
          q.matMul(k.transpose(0, 2, 1))
              .div(Tensors.scalar(q.getManager(), (float) Math.sqrt(WIDTH)))
              .softmax(-1);
      return toOut.forward(weights.matMul(v));
    }
  }
}
