using System.Text.Json.Serialization;

namespace Ava.WhatsAppSimulator;

/// <summary>
/// Source-generated JSON of the simulator's media controls, snake_case like the Graph API whose media they play (the
/// older controls keep the framework's camelCase).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(UploadedMedia))]
[JsonSerializable(typeof(MediaFailure))]
[JsonSerializable(typeof(MediaMessageToDeliver))]
[JsonSerializable(typeof(IReadOnlyList<RecordedMediaRequest>))]
[JsonSerializable(typeof(DeliveryResult))]
public sealed partial class SimulatorJsonContext : JsonSerializerContext;
