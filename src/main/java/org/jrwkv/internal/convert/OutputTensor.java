package org.jrwkv.internal.convert;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.jrwkv.internal.checkpoint.CheckpointTensor;
import org.jrwkv.internal.checkpoint.MappedTensor;
import org.jrwkv.internal.tensor.TensorView;

/**
 * One record of the output file, planned before anything is written: its name, its PyTorch-order
 * shape after the transforms, whether it is stored as FP16, and how to produce its elements from
 * the checkpoint (the source tensors, the view operations and the value transform).
 *
 * <p>Internal: not part of the public API.
 */
final class OutputTensor {

    /** Turns the mapped source views into the output view (transposes, squeezes, reshapes, concatenation). */
    @FunctionalInterface
    interface Shaper {
        TensorView apply(List<TensorView> sources);
    }

    final String name;
    final long[] shape;
    final boolean fp16;
    final ValueOp op;
    final List<CheckpointTensor> sources;
    final Shaper shaper;

    OutputTensor(String name, long[] shape, boolean fp16, ValueOp op, List<CheckpointTensor> sources, Shaper shaper) {
        this.name = name;
        this.shape = shape;
        this.fp16 = fp16;
        this.op = op;
        this.sources = sources;
        this.shaper = shaper;
    }

    /** Element count. */
    long numel() {
        return TensorView.checkedNumel(shape);
    }

    /** Bytes of its record: header, dims, name and data. */
    long recordBytes() {
        return 12L + 4L * shape.length + name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                + numel() * (fp16 ? 2 : 4);
    }

    /** Maps the sources and runs {@code body} on the resulting view; unmaps afterwards. */
    void withView(ViewConsumer body) throws IOException {
        MappedTensor[] mapped = new MappedTensor[sources.size()];
        try {
            TensorView[] views = new TensorView[mapped.length];
            for (int i = 0; i < mapped.length; i++) {
                mapped[i] = sources.get(i).map();
                views[i] = mapped[i].view();
            }
            TensorView view = shaper.apply(Arrays.asList(views));
            if (!Arrays.equals(view.shape(), shape)) {
                throw new IllegalStateException(name + ": planned shape " + Arrays.toString(shape)
                        + " but produced " + Arrays.toString(view.shape()));
            }
            body.accept(view);
        } finally {
            for (MappedTensor m : mapped) {
                if (m != null) {
                    m.close();
                }
            }
        }
    }

    /** Receives a mapped view. */
    @FunctionalInterface
    interface ViewConsumer {
        void accept(TensorView view) throws IOException;
    }
}
