using System.Text.Json.Serialization;

namespace Ava.Responder.Contracts;

/// <summary>Source-generated JSON of the responder contract (snake_case, nulls left out).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Turn))]
[JsonSerializable(typeof(TurnAnswer))]
public sealed partial class ResponderJsonContext : JsonSerializerContext;
