package org.jrwkv.internal.tensor;

import java.util.Arrays;

/**
 * A strided view of elements in a {@link ByteRegion}: element (i0 … in-1) is at element index
 * {@code offset + Σ ik·stride[k]} of the region. Reshaping operations return new views over the
 * same bytes; nothing is copied until {@link #readFloats} or {@link #materialize}.
 *
 * <p>Shapes and strides are validated on construction (non-negative, the furthest element inside
 * the region, 64-bit arithmetic with overflow checks), so reading a view never goes out of
 * bounds.
 *
 * <p>Internal: not part of the public API.
 */
public final class TensorView {

    /** Most dimensions a tensor may have. */
    public static final int MAX_DIMS = 8;

    private final ByteRegion region;
    private final ElementType type;
    private final long offset;
    private final long[] shape;
    private final long[] strides;
    private final long numel;

    /**
     * Creates a view.
     *
     * @throws IllegalArgumentException if the shape or strides are invalid or reach outside the region
     */
    public TensorView(ByteRegion region, ElementType type, long offset, long[] shape, long[] strides) {
        this.region = region;
        this.type = type;
        this.offset = offset;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.numel = checkedNumel(this.shape);
        checkExtent(region.length() / type.size(), offset, this.shape, this.strides);
    }

    /** A contiguous row-major view of the whole region. */
    public static TensorView contiguous(ByteRegion region, ElementType type, long[] shape) {
        return new TensorView(region, type, 0, shape, rowMajorStrides(shape));
    }

    /** Element count of a shape, checked: sizes non-negative, at most {@link #MAX_DIMS} dims, no overflow. */
    public static long checkedNumel(long[] shape) {
        if (shape.length > MAX_DIMS) {
            throw new IllegalArgumentException(shape.length + " dimensions (at most " + MAX_DIMS + ")");
        }
        long n = 1;
        for (long s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("negative size in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, s);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " overflows", e);
            }
        }
        return n;
    }

    /**
     * Checks that every element of a strided view lies inside a storage of {@code capacity} elements.
     *
     * @throws IllegalArgumentException if not
     */
    public static void checkExtent(long capacity, long offset, long[] shape, long[] strides) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " and stride "
                    + Arrays.toString(strides) + " differ in length");
        }
        if (offset < 0) {
            throw new IllegalArgumentException("negative storage offset " + offset);
        }
        long last = offset;
        for (int k = 0; k < shape.length; k++) {
            if (strides[k] < 0) {
                throw new IllegalArgumentException("negative stride in " + Arrays.toString(strides));
            }
            if (shape[k] == 0) {
                return; // empty: nothing is read
            }
            try {
                last = Math.addExact(last, Math.multiplyExact(shape[k] - 1, strides[k]));
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("strides " + Arrays.toString(strides) + " overflow", e);
            }
        }
        if (last >= capacity) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " with stride "
                    + Arrays.toString(strides) + " and offset " + offset + " reaches element " + last
                    + " of a storage of " + capacity + " elements");
        }
    }

    /** Row-major strides of a shape. */
    public static long[] rowMajorStrides(long[] shape) {
        long[] s = new long[shape.length];
        long step = 1;
        for (int k = shape.length - 1; k >= 0; k--) {
            s[k] = step;
            step *= Math.max(shape[k], 1);
        }
        return s;
    }

    /** The element type. */
    public ElementType type() {
        return type;
    }

    /** The shape (a copy). */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public long numel() {
        return numel;
    }

    /** Whether elements are laid out row-major without gaps (sizes of 1 may have any stride). */
    public boolean isContiguous() {
        long step = 1;
        for (int k = shape.length - 1; k >= 0; k--) {
            if (shape[k] != 1 && strides[k] != step) {
                return numel == 0;
            }
            step *= shape[k];
        }
        return true;
    }

    /** The view with dimensions {@code a} and {@code b} exchanged (data untouched). */
    public TensorView transpose(int a, int b) {
        if (a < 0 || b < 0 || a >= shape.length || b >= shape.length) {
            throw new IllegalArgumentException("cannot swap dimensions " + a + " and " + b + " of a "
                    + shape.length + "-d tensor");
        }
        long[] sh = shape.clone();
        long[] st = strides.clone();
        sh[a] = shape[b];
        sh[b] = shape[a];
        st[a] = strides[b];
        st[b] = strides[a];
        return new TensorView(region, type, offset, sh, st);
    }

    /** The view without any dimension of size 1 (PyTorch's {@code squeeze()}). */
    public TensorView squeeze() {
        int kept = 0;
        for (long s : shape) {
            if (s != 1) {
                kept++;
            }
        }
        long[] sh = new long[kept];
        long[] st = new long[kept];
        int j = 0;
        for (int k = 0; k < shape.length; k++) {
            if (shape[k] != 1) {
                sh[j] = shape[k];
                st[j++] = strides[k];
            }
        }
        return new TensorView(region, type, offset, sh, st);
    }

    /**
     * The same elements in row-major order under another shape with the same element count
     * (PyTorch's {@code reshape} of a contiguous tensor). Only for contiguous views; others must be
     * materialized first.
     */
    public TensorView reshape(long[] newShape) {
        if (checkedNumel(newShape) != numel) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        if (!isContiguous()) {
            throw new IllegalStateException("reshape of a non-contiguous view");
        }
        return new TensorView(region, type, offset, newShape, rowMajorStrides(newShape));
    }

    /**
     * Reads elements in row-major order as float32: element {@code first} … {@code first+count-1}
     * of the flattened view into {@code dst[dstOff…]}.
     */
    public void readFloats(long first, int count, float[] dst, int dstOff) {
        if (first < 0 || count < 0 || first + count > numel) {
            throw new IndexOutOfBoundsException(first + "+" + count + " of " + numel);
        }
        if (count == 0) {
            return;
        }
        if (isContiguous()) {
            readRun(offset + first, 1, count, dst, dstOff);
            return;
        }
        // Walk row by row along the last dimension; index[] is the position of element `first`.
        int rank = shape.length;
        long[] index = new long[rank];
        long rest = first;
        for (int k = rank - 1; k >= 0; k--) {
            index[k] = rest % shape[k];
            rest /= shape[k];
        }
        int done = 0;
        long lastSize = shape[rank - 1];
        while (done < count) {
            long start = offset;
            for (int k = 0; k < rank; k++) {
                start += index[k] * strides[k];
            }
            int n = (int) Math.min(count - done, lastSize - index[rank - 1]);
            readRun(start, strides[rank - 1], n, dst, dstOff + done);
            done += n;
            // Advance the odometer by n along the last dimension.
            index[rank - 1] += n;
            for (int k = rank - 1; k > 0 && index[k] == shape[k]; k--) {
                index[k] = 0;
                index[k - 1]++;
            }
        }
    }

    /** Reads {@code n} elements starting at element index {@code start}, {@code step} elements apart. */
    private void readRun(long start, long step, int n, float[] dst, int off) {
        ByteRegion r = region;
        switch (type) {
            case F32: {
                long pos = start * 4;
                long inc = step * 4;
                for (int i = 0; i < n; i++, pos += inc) {
                    dst[off + i] = r.getFloat(pos);
                }
                break;
            }
            case BF16: {
                long pos = start * 2;
                long inc = step * 2;
                for (int i = 0; i < n; i++, pos += inc) {
                    dst[off + i] = Float.intBitsToFloat((r.getShort(pos) & 0xFFFF) << 16);
                }
                break;
            }
            case F16: {
                long pos = start * 2;
                long inc = step * 2;
                for (int i = 0; i < n; i++, pos += inc) {
                    dst[off + i] = Fp16.toFloat(r.getShort(pos));
                }
                break;
            }
            case F64: {
                long pos = start * 8;
                long inc = step * 8;
                for (int i = 0; i < n; i++, pos += inc) {
                    dst[off + i] = (float) r.getDouble(pos);
                }
                break;
            }
            default:
                throw new IllegalStateException(type + " elements cannot be read as float32");
        }
    }

    /**
     * Every element as a double in row-major order, integers included (for tests and small tensors).
     *
     * @param limit the most elements accepted
     */
    public double[] toDoubles(int limit) {
        if (numel > limit) {
            throw new IllegalStateException(numel + " elements (limit " + limit + ")");
        }
        double[] out = new double[(int) numel];
        long[] index = new long[shape.length];
        for (int i = 0; i < out.length; i++) {
            long e = offset;
            for (int k = 0; k < shape.length; k++) {
                e += index[k] * strides[k];
            }
            out[i] = element(e);
            for (int k = shape.length - 1; k >= 0; k--) {
                if (++index[k] < shape[k]) {
                    break;
                }
                index[k] = 0;
            }
        }
        return out;
    }

    private double element(long e) {
        ByteRegion r = region;
        switch (type) {
            case F64: return r.getDouble(e * 8);
            case F32: return r.getFloat(e * 4);
            case F16: return Fp16.toFloat(r.getShort(e * 2));
            case BF16: return Float.intBitsToFloat((r.getShort(e * 2) & 0xFFFF) << 16);
            case I64: return r.getLong(e * 8);
            case I32: return r.getInt(e * 4);
            case I16: return r.getShort(e * 2);
            case I8: return r.get(e);
            case U64: {
                long v = r.getLong(e * 8);
                return v >= 0 ? v : (v >>> 1) * 2.0 + (v & 1);
            }
            case U32: return r.getInt(e * 4) & 0xFFFFFFFFL;
            case U16: return r.getShort(e * 2) & 0xFFFF;
            case U8:
            case BOOL: return r.get(e) & 0xFF;
            default: throw new IllegalStateException(type + " elements cannot be read as numbers");
        }
    }

    /** A contiguous float32 copy on the heap (for small tensors), at most {@code limit} elements. */
    public TensorView materialize(int limit) {
        if (numel > limit) {
            throw new IllegalStateException("tensor of " + numel + " elements is too large to copy (limit " + limit + ")");
        }
        float[] values = new float[(int) numel];
        readFloats(0, values.length, values, 0);
        return contiguous(ByteRegion.ofFloats(values), ElementType.F32, shape);
    }

    @Override
    public String toString() {
        return type + Arrays.toString(shape);
    }
}
