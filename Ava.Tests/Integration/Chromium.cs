using Ava.AppHost.Tunnels;
using Microsoft.Playwright;

namespace Ava.Tests.Integration;

/// <summary>
/// A headless Chromium driven by Playwright, shared by a test class. It is the distribution's Chromium (Debian's
/// <c>chromium</c> package, which <c>./test.sh</c> installs where missing): Playwright's own browser download needs
/// a network the tests cannot count on.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    /// <summary>How long a page may take to show what a test expects: a round trip through the whole stack.</summary>
    private const float ExpectTimeoutMilliseconds = 30_000;

    private static readonly string[] s_arguments =
    [
        // Tests run as root, where Chromium's sandbox cannot start.
        "--no-sandbox",
        "--disable-gpu",
        // Without these Chromium keeps calling Google's services, which a closed network refuses over and over.
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync()
    {
        var executable = ExecutableOnPath.Find("chromium")
            ?? throw new InvalidOperationException(
                "Chromium is not installed, and the browser tests need it: ./test.sh installs it with apt where it can "
                + "(as root or with passwordless sudo); otherwise install the chromium package (apt-get install chromium).");

        Assertions.SetDefaultExpectTimeout(ExpectTimeoutMilliseconds);
        _playwright = await Playwright.CreateAsync();

        // Each launch gets a fresh, throwaway profile (Playwright's own temporary --user-data-dir).
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = executable,
            Headless = true,
            Args = s_arguments,
        });
    }

    /// <summary>A new page in a context of its own: no cookies or storage shared between tests.</summary>
    public async Task<IPage> NewPageAsync()
    {
        var browser = _browser ?? throw new InvalidOperationException("Chromium has not started.");
        var context = await browser.NewContextAsync();
        return await context.NewPageAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}
