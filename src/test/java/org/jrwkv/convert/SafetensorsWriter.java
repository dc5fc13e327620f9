package org.jrwkv.convert;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes {@code .safetensors} files for tests, tensors in the given order, header padded to 8 bytes. */
public final class SafetensorsWriter {

    private SafetensorsWriter() {
    }

    /** Writes float32 tensors. */
    public static void write(Path file, List<PthWriter.Tensor> tensors) throws IOException {
        StringBuilder json = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        for (PthWriter.Tensor t : tensors) {
            long begin = data.size();
            data.writeBytes(t.data());
            json.append(",\"").append(t.name()).append("\":{\"dtype\":\"F32\",\"shape\":[");
            for (int i = 0; i < t.shape().length; i++) {
                json.append(i > 0 ? "," : "").append(t.shape()[i]);
            }
            json.append("],\"data_offsets\":[").append(begin).append(',').append(data.size()).append("]}");
        }
        json.append('}');
        writeRaw(file, json.toString(), data.toByteArray());
    }

    /** Writes a header (padded with spaces to a multiple of 8) and a data buffer as they are. */
    public static void writeRaw(Path file, String header, byte[] data) throws IOException {
        StringBuilder h = new StringBuilder(header);
        while (h.toString().getBytes(StandardCharsets.UTF_8).length % 8 != 0) {
            h.append(' ');
        }
        byte[] hb = h.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + hb.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(hb.length).put(hb).put(data);
        Files.write(file, b.array());
    }
}
