namespace Ava.WebhookApi.WhatsApp.Receiving;

/// <summary>A spooled batch held by one drainer; disposing it lets go (the batch stays for the next round).</summary>
internal sealed class SpoolClaim(string file, FileStream stream, string quarantineDirectory) : IDisposable
{
    public string FilePath { get; } = file;

    public SpoolContents Read()
    {
        stream.Position = 0;
        return SpoolRecordFormat.ReadAll(stream);
    }

    /// <summary>The batch is stored elsewhere: remove it (still holding the claim, so nobody opens it meanwhile).</summary>
    public void Complete() => File.Delete(FilePath);

    /// <summary>Moves the batch aside for a person to look at; unreadable data is never deleted.</summary>
    /// <returns>Where it went.</returns>
    public string Quarantine()
    {
        Directory.CreateDirectory(quarantineDirectory);
        var destination = Path.Combine(quarantineDirectory, Path.GetFileName(FilePath));
        File.Move(FilePath, destination);
        return destination;
    }

    public void Dispose() => stream.Dispose();
}
