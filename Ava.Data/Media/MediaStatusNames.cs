using System.Reflection;
using System.Text.Json.Serialization;

namespace Ava.Data.Media;

/// <summary>A <see cref="MediaStatus"/> by the name it has in JSON (and in Postgres), for contracts that carry it as text.</summary>
public static class MediaStatusNames
{
    private static readonly Dictionary<MediaStatus, string> s_names = Enum.GetValues<MediaStatus>().ToDictionary(
        status => status,
        status => typeof(MediaStatus).GetField(status.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name);

    public static string NameOf(MediaStatus status) => s_names[status];
}
