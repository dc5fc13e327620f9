package org.jrwkv.internal.presets;

import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.tools.Info;
import org.bytedeco.javacpp.tools.InfoMap;
import org.bytedeco.javacpp.tools.InfoMapper;

/**
 * JavaCPP preset for the engine's C API ({@code native/include/rwkv.h}).
 *
 * <p>At build time the JavaCPP parser reads the header through this class and writes
 * {@code org.jrwkv.internal.RwkvNative} into {@code target/generated-sources/javacpp}; the JavaCPP
 * builder then compiles the JNI glue and links the engine's static library ({@code librwkv.a}) into
 * one self-contained library, {@code libjniRwkvNative}. Linking is configured in {@code jrwkv.pom.xml},
 * not here, so that no separate {@code librwkv} is ever loaded at run time.
 *
 * <p>Internal: nothing generated from this preset appears in a public signature.
 */
@Properties(target = "org.jrwkv.internal.RwkvNative", value = @Platform(include = "rwkv.h"))
public class RwkvPresets implements InfoMapper {

    /** Creates the mapper; called reflectively by the JavaCPP parser. */
    public RwkvPresets() {
    }

    @Override
    public void map(InfoMap infoMap) {
        // The export macro is empty in a static build; the parser must simply ignore it.
        infoMap.put(new Info("RWKV_API").cppTypes().annotations());
        infoMap.put(new Info("defined(RWKV_SHARED)").define(false));
        infoMap.put(new Info("RWKV_H").skip());
    }
}
