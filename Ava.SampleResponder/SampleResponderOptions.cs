using System.ComponentModel.DataAnnotations;

namespace Ava.SampleResponder;

/// <summary>The sample responder's settings (<c>SampleResponder:</c>).</summary>
public sealed class SampleResponderOptions
{
    public const string SectionName = "SampleResponder";

    /// <summary>The key of <c>X-Ava-Signature-256</c>, Ava's <c>WhatsApp:Responder:Secret</c>.</summary>
    [Required]
    public string Secret { get; set; } = "";

    /// <summary>How long it thinks before it answers, as a language model would.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(2);
}
