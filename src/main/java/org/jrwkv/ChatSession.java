package org.jrwkv;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.zip.CRC32;
import org.jrwkv.internal.AtomicFiles;

/**
 * A conversation that keeps the model's state between turns: each turn feeds only the new text
 * ({@code User: message\n\nAssistant:}), never the history again. The format follows ChatRWKV's
 * {@code API_DEMO_CHAT}:
 *
 * <ol>
 *   <li>the system block ({@code System: ...\n\n}), if any, is fed when the session starts;</li>
 *   <li>a message is cleaned ({@link PromptFormat#cleanContent}) and fed as a user turn;</li>
 *   <li>the reply is sampled and each token fed right away, until the text reaches the turn
 *       separator {@code \n\n} (which stays in the state, so the next turn starts directly with
 *       {@code User:}); penalties count only this reply's tokens;</li>
 *   <li>if the reply ends otherwise (end-of-text token, stop token or string, token limit,
 *       {@link #cancel()}), {@code \n\n} is fed so that the state is ready for the next turn.</li>
 * </ol>
 *
 * The separator is never part of the reply's text: a trailing {@code \n} is held back until it
 * is known not to start {@code \n\n}.
 *
 * <p>{@link #save(Path)} writes the state, the history, the format and the position in the random
 * stream; {@link #load(Path)} restores them, and the session continues exactly where it stopped
 * (same next tokens under the same settings). {@link #reset()} returns to the start,
 * {@link #regenerate} replaces the last reply.
 *
 * <p>Owns a state (off-heap): close it when done. Not thread-safe apart from {@link #cancel()}.
 */
public final class ChatSession implements AutoCloseable {

    private static final byte[] MAGIC = "JRWKVCHT".getBytes(StandardCharsets.US_ASCII);
    private static final int FILE_VERSION = 1;
    /** Largest JSON part a session file may have (bounds what a damaged file makes us read). */
    private static final int MAX_JSON_BYTES = 256 << 20;

    private final RwkvModel model;
    private final Tokenizer tokenizer;
    private final SamplerSettings settings;
    private final Sampler sampler;
    private final RwkvState state;
    private final Logits logits;
    private final List<ChatMessage> history = new ArrayList<>();
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private PromptFormat.Chat format;
    private RwkvState initial;
    private long tokenCount;
    private long initialTokenCount;
    /** The state and logits after the last user turn was fed, for {@link #regenerate}. */
    private RwkvState beforeReply;
    private float[] logitsBeforeReply;
    private long tokenCountBeforeReply;
    private boolean closed;

    /**
     * Starts a session: feeds the format's system block, if it has one.
     *
     * @param format   names and system prompt
     * @param settings sampling for the replies ({@link SamplerSettings#chat()} is a good start);
     *                 with a seed, the session's replies are reproducible
     * @throws IllegalArgumentException if the tokenizer has more ids than the model has logits
     */
    public ChatSession(RwkvModel model, Tokenizer tokenizer, PromptFormat.Chat format, SamplerSettings settings) {
        this.model = Objects.requireNonNull(model, "model");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        this.format = Objects.requireNonNull(format, "format");
        this.settings = Objects.requireNonNull(settings, "settings");
        Generator.checkVocabulary(model, tokenizer);
        this.sampler = new Sampler(Generator.withUnknownIdsBanned(settings, tokenizer, model));
        this.state = model.newState();
        this.logits = model.newLogits();
        try {
            start();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** Feeds the system block into a fresh state and remembers that state for {@link #reset()}. */
    private void start() {
        state.reset();
        tokenCount = 0;
        String block = format.systemBlock();
        if (!block.isEmpty()) {
            int[] tokens = tokenizer.encodePrompt(block);
            model.evalSequence(tokens, Generator.PROMPT_CHUNK, state, logits);
            tokenCount = tokens.length;
        }
        if (initial != null) {
            initial.close();
        }
        initial = state.copy();
        initialTokenCount = tokenCount;
        history.clear();
        if (!format.system().isEmpty()) {
            history.add(new ChatMessage(ChatMessage.Role.SYSTEM, format.system()));
        }
        dropSnapshot();
    }

    /** Sends a message and returns the reply (see {@link #send(String, Consumer)}). */
    public GenerationResult send(String message) {
        return send(message, piece -> { });
    }

    /**
     * Sends a message: feeds the user turn, then generates the reply, passing each piece of text
     * to {@code onText} as soon as it is final. The result's {@code promptTokens} are the tokens
     * of this turn only.
     *
     * @throws IllegalArgumentException if the message is empty after cleaning
     */
    public GenerationResult send(String message, Consumer<String> onText) {
        Objects.requireNonNull(onText, "onText");
        ensureOpen();
        String clean = PromptFormat.cleanContent(message);
        String turn = format.userTurn(clean);
        int[] tokens = tokenizer.encodePrompt(turn);
        cancelled.set(false);
        long start = System.nanoTime();
        model.evalSequence(tokens, Generator.PROMPT_CHUNK, state, logits);
        Duration promptTime = Duration.ofNanos(System.nanoTime() - start);
        tokenCount += tokens.length;
        snapshot();
        history.add(ChatMessage.user(clean));
        return reply(tokens.length, promptTime, onText);
    }

    /**
     * Replaces the last reply with a new one, generated from the state before it (the random
     * stream goes on, so the new reply usually differs). Nothing is fed again: the result's
     * {@code promptTokens} is 0.
     *
     * @throws IllegalStateException if there is no reply to replace (none yet, or after
     *                               {@link #reset()} or {@link #load(Path)})
     */
    public GenerationResult regenerate(Consumer<String> onText) {
        Objects.requireNonNull(onText, "onText");
        ensureOpen();
        if (beforeReply == null) {
            throw new IllegalStateException("there is no reply to regenerate");
        }
        state.copyFrom(beforeReply);
        synchronized (logits.lock()) {
            logits.memoryForNativeCall().buffer().duplicate().put(logitsBeforeReply);
        }
        tokenCount = tokenCountBeforeReply;
        if (!history.isEmpty() && history.get(history.size() - 1).role() == ChatMessage.Role.ASSISTANT) {
            history.remove(history.size() - 1);
        }
        cancelled.set(false);
        return reply(0, Duration.ZERO, onText); // nothing is fed again
    }

    private GenerationResult reply(int promptTokens, Duration promptTime, Consumer<String> onText) {
        sampler.resetPenalties();
        GenerationLoop loop = new GenerationLoop(model, tokenizer, state, logits, sampler,
                List.of(PromptFormat.TURN_SEPARATOR), true, cancelled);
        StringBuilder text = new StringBuilder();
        String piece;
        while ((piece = loop.step()) != null) {
            if (!piece.isEmpty()) {
                text.append(piece);
                onText.accept(piece);
            }
        }
        tokenCount += loop.generatedCount();
        if (!PromptFormat.TURN_SEPARATOR.equals(loop.matchedStop())) {
            int[] separator = tokenizer.encode(PromptFormat.TURN_SEPARATOR);
            model.evalSequence(separator, state, logits);
            tokenCount += separator.length;
        }
        history.add(ChatMessage.assistant(text.toString().strip()));
        return loop.result(promptTokens, 0, promptTime);
    }

    private void snapshot() {
        if (beforeReply == null) {
            beforeReply = state.copy();
        } else {
            beforeReply.copyFrom(state);
        }
        logitsBeforeReply = logits.toArray();
        tokenCountBeforeReply = tokenCount;
    }

    private void dropSnapshot() {
        if (beforeReply != null) {
            beforeReply.close();
            beforeReply = null;
        }
        logitsBeforeReply = null;
    }

    /** Asks the running reply to end before its next token (thread-safe). */
    public void cancel() {
        cancelled.set(true);
    }

    /** Forgets the conversation: back to the state right after the system block. */
    public void reset() {
        ensureOpen();
        state.copyFrom(initial);
        tokenCount = initialTokenCount;
        history.clear();
        if (!format.system().isEmpty()) {
            history.add(new ChatMessage(ChatMessage.Role.SYSTEM, format.system()));
        }
        dropSnapshot();
    }

    /** The messages so far (the system prompt first, if any). */
    public List<ChatMessage> history() {
        return List.copyOf(history);
    }

    /** The format: names and system prompt. */
    public PromptFormat.Chat format() {
        return format;
    }

    /** The sampling settings of the replies. */
    public SamplerSettings settings() {
        return settings;
    }

    /** Number of tokens the model has been fed in this conversation (its state holds them all). */
    public long tokenCount() {
        return tokenCount;
    }

    /** The state (for tests in this package). */
    RwkvState state() {
        return state;
    }

    // ---- files ----

    /**
     * Saves the conversation: format, history, state, token count and position in the random
     * stream. The file is written to a temporary file and renamed, so it is complete or absent.
     *
     * <p>Format: magic {@code JRWKVCHT}, version (u32), JSON length (u32), JSON (UTF-8), state
     * length (u32), the state as {@link RwkvState#exportBytes()}, CRC-32 of everything before it;
     * little-endian.
     *
     * @throws IOException if the file cannot be written
     */
    public void save(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        ensureOpen();
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode json = mapper.createObjectNode();
        json.put("tokenizer", tokenizer.kind().name());
        json.put("vocabSize", tokenizer.vocabSize());
        ObjectNode f = json.putObject("format");
        f.put("user", format.user());
        f.put("assistant", format.assistant());
        f.put("system", format.system());
        ArrayNode messages = json.putArray("history");
        for (ChatMessage m : history) {
            messages.addObject().put("role", m.role().name()).put("text", m.text());
        }
        json.put("tokenCount", tokenCount);
        json.put("randomState", sampler.randomState());
        byte[] jsonBytes = mapper.writeValueAsBytes(json);
        byte[] stateBytes = state.exportBytes();
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 8 + jsonBytes.length + 4 + stateBytes.length + 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putInt(FILE_VERSION).putInt(jsonBytes.length).put(jsonBytes).putInt(stateBytes.length)
                .put(stateBytes);
        CRC32 crc = new CRC32();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        out.flip();
        AtomicFiles.write(file, channel -> {
            while (out.hasRemaining()) {
                channel.write(out);
            }
        });
    }

    /**
     * Replaces this conversation with a saved one (format, history, state, random position); the
     * sampling settings stay this session's. Nothing changes if the file is refused.
     *
     * @throws IOException              if the file cannot be read
     * @throws IllegalArgumentException if the file is not a session file, is damaged, or was saved
     *                                  with another tokenizer or a model of another shape
     */
    public void load(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        ensureOpen();
        String source = "chat session file " + file;
        long size = Files.size(file);
        long limit = MAGIC.length + 8L + MAX_JSON_BYTES + 4 + 64 + 4L * model.stateLength() + 4;
        if (size > limit) {
            throw new IllegalArgumentException(source + " is too large (" + size + " bytes) for this model");
        }
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < MAGIC.length + 16 || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
            throw new IllegalArgumentException(source + " is not a jrwkv chat session (wrong magic)");
        }
        CRC32 crc = new CRC32();
        crc.update(bytes, 0, bytes.length - 4);
        if ((int) crc.getValue() != in.getInt(bytes.length - 4)) {
            throw new IllegalArgumentException(source + " is damaged or truncated (checksum mismatch)");
        }
        in.position(MAGIC.length);
        int version = in.getInt();
        if (version != FILE_VERSION) {
            throw new IllegalArgumentException(source + " has version " + version + "; this jrwkv reads version "
                    + FILE_VERSION);
        }
        int jsonLength = in.getInt();
        if (jsonLength < 0 || jsonLength > in.remaining() - 8) {
            throw new IllegalArgumentException(source + " is damaged (JSON length " + jsonLength + ")");
        }
        byte[] jsonBytes = new byte[jsonLength];
        in.get(jsonBytes);
        int stateLength = in.getInt();
        if (stateLength != in.remaining() - 4) {
            throw new IllegalArgumentException(source + " is damaged (state length " + stateLength + ")");
        }
        byte[] stateBytes = new byte[stateLength];
        in.get(stateBytes);

        JsonNode json;
        try {
            json = new ObjectMapper().readTree(jsonBytes);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(source + " is damaged (bad JSON: " + e.getOriginalMessage() + ")");
        }
        String kind = json.path("tokenizer").asText("");
        if (!kind.equals(tokenizer.kind().name()) || json.path("vocabSize").asInt(-1) != tokenizer.vocabSize()) {
            throw new IllegalArgumentException(source + " was saved with the " + kind + " tokenizer ("
                    + json.path("vocabSize").asInt(-1) + " ids); this session uses " + tokenizer.kind() + " ("
                    + tokenizer.vocabSize() + " ids)");
        }
        PromptFormat.Chat savedFormat;
        List<ChatMessage> savedHistory = new ArrayList<>();
        try {
            JsonNode f = json.path("format");
            savedFormat = new PromptFormat.Chat(text(f, "user"), text(f, "assistant"), text(f, "system"));
            for (JsonNode m : json.path("history")) {
                savedHistory.add(new ChatMessage(ChatMessage.Role.valueOf(text(m, "role")), text(m, "text")));
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + " is damaged (" + e.getMessage() + ")");
        }
        if (!json.path("tokenCount").canConvertToLong() || !json.path("randomState").canConvertToLong()) {
            throw new IllegalArgumentException(source + " is damaged (no token count or random state)");
        }
        // The state is checked and imported last: it refuses another model's state, and changes
        // nothing unless it succeeds.
        state.importBytes(stateBytes);
        boolean sameSystem = savedFormat.system().equals(format.system());
        format = savedFormat;
        history.clear();
        history.addAll(savedHistory);
        tokenCount = json.get("tokenCount").asLong();
        sampler.setRandomState(json.get("randomState").asLong());
        dropSnapshot();
        if (!sameSystem) {
            recomputeInitial();
        }
    }

    /** The state after the (new) system block, for {@link #reset()}, without touching the current one. */
    private void recomputeInitial() {
        initial.reset();
        initialTokenCount = 0;
        String block = format.systemBlock();
        if (!block.isEmpty()) {
            int[] tokens = tokenizer.encodePrompt(block);
            model.evalSequence(tokens, Generator.PROMPT_CHUNK, initial, null);
            initialTokenCount = tokens.length;
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || !v.isTextual()) {
            throw new IllegalArgumentException("missing text field '" + field + "'");
        }
        return v.asText();
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("chat session is closed");
        }
    }

    /** Frees the states. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        dropSnapshot();
        if (initial != null) {
            initial.close();
        }
        state.close();
        logits.close();
    }
}
