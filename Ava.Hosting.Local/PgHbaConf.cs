namespace Ava.Hosting.Local;

/// <summary>
/// The local cluster's <c>pg_hba.conf</c>. A cluster initialised when Ava still used <c>trust</c> admits any local
/// process as any role; its records are switched to what <c>initdb</c> now writes for Ava — passwords
/// (<c>scram-sha-256</c>) on TCP, <c>peer</c> on the Unix socket (which Ava never opens) — and nothing else in the
/// file changes, so a developer's own records and comments stay as they are.
/// </summary>
internal static class PgHbaConf
{
    /// <summary>How TCP connections authenticate: with the role's password.</summary>
    public const string HostMethod = "scram-sha-256";

    /// <summary>
    /// How Unix-socket connections authenticate: as the OS user of the same name. Ava runs the server without a
    /// socket; should one be opened, only the OS user that owns the cluster (and can read its files anyway) gets in.
    /// </summary>
    public const string LocalMethod = "peer";

    private const string Trust = "trust";

    /// <summary>Replaces the method <c>trust</c> in every record (comments mentioning it are left alone).</summary>
    /// <param name="contents">The file as it is.</param>
    /// <param name="upgraded">The file with no <c>trust</c> record left; <paramref name="contents"/> when there was none.</param>
    /// <returns>Whether any record used <c>trust</c>.</returns>
    public static bool TryReplaceTrust(string contents, out string upgraded)
    {
        var lines = contents.Split('\n');
        var changed = false;
        for (var i = 0; i < lines.Length; i++)
        {
            if (WithoutTrust(lines[i]) is { } replaced)
            {
                lines[i] = replaced;
                changed = true;
            }
        }

        upgraded = changed ? string.Join('\n', lines) : contents;
        return changed;
    }

    private static string? WithoutTrust(string line)
    {
        var fields = Fields(line);
        if (fields.Count == 0)
        {
            return null;
        }

        // local DATABASE USER METHOD [OPTIONS]; host* DATABASE USER ADDRESS [MASK] METHOD [OPTIONS].
        var (firstMethodField, method) = line[fields[0]] switch
        {
            "local" => (3, LocalMethod),
            "host" or "hostssl" or "hostnossl" or "hostgssenc" or "hostnogssenc" => (4, HostMethod),
            _ => (-1, null),
        };
        if (method is null)
        {
            return null;
        }

        // The method is the first bare word from there on: a mask is an address, and options are name=value.
        foreach (var field in fields.Skip(firstMethodField))
        {
            if (line[field] == Trust)
            {
                return string.Concat(line.AsSpan(..field.Start), method, line.AsSpan(field.End..));
            }
        }

        return null;
    }

    /// <summary>Where each field of a record lies: separated by whitespace, quoted ones whole, up to a comment.</summary>
    private static List<Range> Fields(string line)
    {
        var fields = new List<Range>();
        var i = 0;
        while (i < line.Length && line[i] != '#')
        {
            if (char.IsWhiteSpace(line[i]))
            {
                i++;
                continue;
            }

            var start = i;
            var quoted = false;
            while (i < line.Length && (quoted || (!char.IsWhiteSpace(line[i]) && line[i] != '#')))
            {
                if (line[i] == '"')
                {
                    quoted = !quoted;
                }

                i++;
            }

            fields.Add(start..i);
        }

        return fields;
    }
}
