package org.jrwkv.internal.checkpoint;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jrwkv.convert.CheckpointException;
import org.jrwkv.internal.pickle.PickleResolver;
import org.jrwkv.internal.pickle.PyDict;
import org.jrwkv.internal.pickle.PyTuple;
import org.jrwkv.internal.tensor.ElementType;

/**
 * The globals, calls and persistent ids that {@code torch.save} state dicts use (converter.md
 * A.4-A.6), and nothing else: {@code collections.OrderedDict}, torch's tensor and parameter
 * rebuild functions, the typed storage classes, and (for {@code _rebuild_tensor_v3}) untyped
 * storage and dtypes. Anything else, {@code os.system} or {@code builtins.eval} say, is refused by
 * name before the pickle goes on.
 *
 * <p>Internal: not part of the public API.
 */
final class TorchResolver implements PickleResolver {

    /** Whitelisted callables. */
    enum Callable {
        ORDERED_DICT("collections.OrderedDict"),
        REBUILD_TENSOR_V2("torch._utils._rebuild_tensor_v2"),
        REBUILD_TENSOR_V3("torch._utils._rebuild_tensor_v3"),
        REBUILD_PARAMETER("torch._utils._rebuild_parameter"),
        REBUILD_PARAMETER_WITH_STATE("torch._utils._rebuild_parameter_with_state");

        final String qualifiedName;

        Callable(String qualifiedName) {
            this.qualifiedName = qualifiedName;
        }
    }

    /** A {@code torch.<Name>Storage} class (or {@code torch.UntypedStorage}, type null). */
    record StorageClass(String name, ElementType type) {
    }

    /** A {@code torch.<dtype>} object (only meaningful for {@code _rebuild_tensor_v3}). */
    record DType(String name, ElementType type) {
    }

    /** A storage named by a persistent id. */
    record StorageRef(String key, StorageClass storageClass, String location, long numel) {
    }

    /** A rebuilt tensor: a view of a storage. */
    record TorchTensor(StorageRef storage, ElementType type, long offset, long[] shape, long[] stride, boolean parameter) {
        TorchTensor asParameter() {
            return new TorchTensor(storage, type, offset, shape, stride, true);
        }
    }

    private static final Map<String, ElementType> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", ElementType.F32),
            Map.entry("HalfStorage", ElementType.F16),
            Map.entry("BFloat16Storage", ElementType.BF16),
            Map.entry("DoubleStorage", ElementType.F64),
            Map.entry("LongStorage", ElementType.I64),
            Map.entry("IntStorage", ElementType.I32),
            Map.entry("ShortStorage", ElementType.I16),
            Map.entry("CharStorage", ElementType.I8),
            Map.entry("ByteStorage", ElementType.U8),
            Map.entry("BoolStorage", ElementType.BOOL));

    private static final Map<String, ElementType> DTYPES = Map.ofEntries(
            Map.entry("float32", ElementType.F32), Map.entry("float", ElementType.F32),
            Map.entry("float16", ElementType.F16), Map.entry("half", ElementType.F16),
            Map.entry("bfloat16", ElementType.BF16),
            Map.entry("float64", ElementType.F64), Map.entry("double", ElementType.F64),
            Map.entry("int64", ElementType.I64), Map.entry("long", ElementType.I64),
            Map.entry("int32", ElementType.I32), Map.entry("int", ElementType.I32),
            Map.entry("int16", ElementType.I16), Map.entry("short", ElementType.I16),
            Map.entry("int8", ElementType.I8), Map.entry("uint8", ElementType.U8),
            Map.entry("uint16", ElementType.U16), Map.entry("uint32", ElementType.U32),
            Map.entry("uint64", ElementType.U64), Map.entry("bool", ElementType.BOOL),
            Map.entry("float8_e4m3fn", ElementType.F8_E4M3), Map.entry("float8_e5m2", ElementType.F8_E5M2));

    private final String source;
    private final Map<String, StorageRef> storages = new HashMap<>();

    TorchResolver(String source) {
        this.source = source;
    }

    /** Storages by key, as the persistent ids named them. */
    Map<String, StorageRef> storages() {
        return storages;
    }

    private CheckpointException error(String message) {
        return new CheckpointException(source + ": " + message);
    }

    @Override
    public Object global(String module, String name) throws CheckpointException {
        String qualified = module + "." + name;
        for (Callable c : Callable.values()) {
            if (c.qualifiedName.equals(qualified)) {
                return c;
            }
        }
        if (module.equals("torch")) {
            if (STORAGES.containsKey(name)) {
                return new StorageClass(name, STORAGES.get(name));
            }
            if (name.equals("UntypedStorage")) {
                return new StorageClass(name, null);
            }
            if (DTYPES.containsKey(name)) {
                return new DType(name, DTYPES.get(name));
            }
            if (name.endsWith("Storage")) {
                throw error("refused pickle global " + qualified + " (not a supported storage type)");
            }
        }
        throw error("refused pickle global " + qualified + " (checkpoints may only name torch's tensor rebuild functions,"
                + " storage types and collections.OrderedDict)");
    }

    @Override
    public Object reduce(Object callable, PyTuple args) throws CheckpointException {
        if (!(callable instanceof Callable)) {
            throw error("refused pickle call of " + describe(callable));
        }
        switch ((Callable) callable) {
            case ORDERED_DICT:
                if (args.size() != 0) {
                    throw error("OrderedDict called with arguments");
                }
                return new PyDict(true);
            case REBUILD_TENSOR_V2:
                if (args.size() != 6 && args.size() != 7) {
                    throw error("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + args.size());
                }
                return rebuild(args, null);
            case REBUILD_TENSOR_V3: {
                if (args.size() != 7 && args.size() != 8) {
                    throw error("_rebuild_tensor_v3 takes 7 or 8 arguments, got " + args.size());
                }
                if (!(args.get(6) instanceof DType)) {
                    throw error("_rebuild_tensor_v3 without a dtype");
                }
                return rebuild(args, ((DType) args.get(6)).type());
            }
            case REBUILD_PARAMETER:
            case REBUILD_PARAMETER_WITH_STATE: {
                int expected = callable == Callable.REBUILD_PARAMETER ? 3 : 4;
                if (args.size() != expected || !(args.get(0) instanceof TorchTensor)) {
                    throw error(((Callable) callable).qualifiedName + " with unexpected arguments");
                }
                return ((TorchTensor) args.get(0)).asParameter();
            }
            default:
                throw error("refused pickle call of " + describe(callable));
        }
    }

    private TorchTensor rebuild(PyTuple args, ElementType v3Type) throws CheckpointException {
        if (!(args.get(0) instanceof StorageRef)) {
            throw error("tensor rebuild without a storage");
        }
        StorageRef storage = (StorageRef) args.get(0);
        ElementType type;
        if (v3Type != null) {
            if (storage.storageClass().type() != null) {
                throw error("_rebuild_tensor_v3 on a typed storage");
            }
            type = v3Type;
        } else {
            if (storage.storageClass().type() == null) {
                throw error("_rebuild_tensor_v2 on an untyped storage");
            }
            type = storage.storageClass().type();
        }
        long offset = integer(args.get(1), "storage offset");
        long[] shape = ints(args.get(2), "size");
        long[] stride = ints(args.get(3), "stride");
        if (shape.length != stride.length) {
            throw error("tensor size and stride differ in length");
        }
        if (!(args.get(4) instanceof Boolean)) {
            throw error("tensor requires_grad is not a bool");
        }
        return new TorchTensor(storage, type, offset, shape, stride, false);
    }

    private long integer(Object o, String what) throws CheckpointException {
        if (!(o instanceof Long)) {
            throw error("tensor " + what + " is not a 64-bit integer");
        }
        return (Long) o;
    }

    private long[] ints(Object o, String what) throws CheckpointException {
        if (!(o instanceof PyTuple)) {
            throw error("tensor " + what + " is not a tuple");
        }
        List<Object> items = ((PyTuple) o).items();
        if (items.size() > org.jrwkv.internal.tensor.TensorView.MAX_DIMS) {
            throw error("tensor with " + items.size() + " dimensions");
        }
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = integer(items.get(i), what);
        }
        return out;
    }

    @Override
    public Object build(Object target, Object state) throws CheckpointException {
        // state_dict() OrderedDicts carry {'_metadata': ...} (module versions): no tensor data.
        if (target instanceof PyDict && ((PyDict) target).ordered()) {
            return target;
        }
        if (target instanceof TorchTensor) {
            // _rebuild_parameter_with_state may be followed by a state; tensors keep no Python state here.
            return target;
        }
        throw error("refused pickle BUILD on " + describe(target));
    }

    @Override
    public Object persistentLoad(Object pid) throws CheckpointException {
        if (!(pid instanceof PyTuple)) {
            throw error("persistent id is not a tuple");
        }
        PyTuple t = (PyTuple) pid;
        if (t.size() != 5 || !"storage".equals(t.get(0))) {
            throw error("persistent id is not a zip-format storage reference (" + t.size() + " elements)");
        }
        if (!(t.get(1) instanceof StorageClass)) {
            throw error("persistent id without a storage type");
        }
        if (!(t.get(2) instanceof String) || !(t.get(3) instanceof String) || !(t.get(4) instanceof Long)) {
            throw error("malformed persistent id");
        }
        StorageClass cls = (StorageClass) t.get(1);
        String key = (String) t.get(2);
        long numel = (Long) t.get(4);
        if (numel < 0) {
            throw error("storage " + key + " has a negative size");
        }
        StorageRef ref = new StorageRef(key, cls, (String) t.get(3), numel);
        StorageRef previous = storages.putIfAbsent(key, ref);
        if (previous != null) {
            if (!previous.storageClass().equals(cls) || previous.numel() != numel) {
                throw error("storage " + key + " is referenced with different types or sizes");
            }
            return previous;
        }
        return ref;
    }

    private static String describe(Object o) {
        if (o instanceof Callable) {
            return ((Callable) o).qualifiedName;
        }
        if (o instanceof StorageClass) {
            return "torch." + ((StorageClass) o).name();
        }
        if (o instanceof DType) {
            return "torch." + ((DType) o).name();
        }
        return o == null ? "None" : o.getClass().getSimpleName();
    }
}
