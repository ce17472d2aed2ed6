using Ava.SampleResponder;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddOptions<SampleResponderOptions>()
    .Bind(builder.Configuration.GetSection(SampleResponderOptions.SectionName))
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<TurnLog>();
builder.Services.AddProblemDetails();

var app = builder.Build();

app.UseExceptionHandler();
app.MapTurns();
app.MapDefaultEndpoints();

app.Run();
