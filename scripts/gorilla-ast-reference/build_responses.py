"""Builds the responses for the AST sub-tree match fixture from APIBench (standard library only).

Run from the repository root:

    python3 scripts/gorilla-ast-reference/build_responses.py

Writes test/fixtures/metrics/gorilla-ast-responses.json, one entry per response:
  * reference: the eval set's own answer for the question (expected correct);
  * swapped: the answer to another question whose API has a different domain (expected wrong);
  * invented: an answer calling an API that is not in the database (expected hallucination);
  * malformed: empty, garbled, unclosed or unparsable answers, and answers without the
    api_call marker (the TorchHub script treats those differently from the other two).
Expected verdicts come from evaluate.py, not from these labels.
"""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fixtures" / "metrics" / "gorilla-ast-responses.json"
HUBS = {
    "huggingface": ("huggingface_eval.json", "questions_huggingface_0_shot.jsonl"),
    "tensorflowhub": ("tensorflow_eval.json", "questions_tensorflowhub_0_shot.jsonl"),
    "torchhub": ("torchhub_eval.json", "questions_torchhub_0_shot.jsonl"),
}
INVENTED_CALLS = {
    "huggingface": [
        "pipeline('imaginary-task', model='acme-labs/imaginary-model-7b')",
        "AutoModel.from_pretrained('acme-labs/not-a-real-checkpoint')",
        "ImaginaryForMagic.from_pretrained('acme-labs/magic')",
        "transformers.summon_model('gpt-17')",
        "DiffusionPipeline.from_pretrained('acme-labs/dreamy-diffusion-v9')",
        "AutoTokenizer.from_pretrained(tokenizer_name)",
        "pipeline(task, model=model_name)",
    ],
    "tensorflowhub": [
        "hub.KerasLayer('https://tfhub.dev/acme/imaginary-encoder/9')",
        "hub.load('https://tfhub.dev/acme/never-published/1')",
        "hub.KerasLayer(model_url)",
        "tf.keras.applications.ImaginaryNet(weights='imagenet')",
        "hub.load('https://example.com/model')",
        "hub.text_embedding_column('text', module_spec='https://tfhub.dev/acme/x/1')",
        "tensorflow_hub.summon('mobilenet')",
    ],
    "torchhub": [
        "torch.hub.load('acme/imaginary-hub', 'imaginary_net', pretrained=True)",
        "torch.hub.load(repo_or_dir='acme/vision', model='resnet9000', pretrained=True)",
        "torchvision.models.imaginary_net(pretrained=True)",
        "torch.hub.summon('pytorch/vision', 'resnet50')",
        "torch.load('weights.pt')",
        "torch.hub.load(repo, name)",
    ],
}
MALFORMED = {
    "huggingface": [
        "",
        "<<<domain>>>: Natural Language Processing, <<<api_call>>>: ((( model=== ,, <<<api_provider>>>: Hugging Face",
        "<<<api_call>>>: AutoModel.from_pretrained('bert-base-uncased'",
        "api_call pipeline('sentiment-analysis', model='distilbert-base-uncased-finetuned-sst-2-english') api_provider",
        "from transformers import pipeline\nclassifier = pipeline('sentiment-analysis', model='distilbert-base-uncased-finetuned-sst-2-english')",
        "<<<api_call>>>: 模型.加载('ü') <<<api_provider>>>: ?",
    ],
    "tensorflowhub": [
        "",
        "<<<api_call>>>: hub.KerasLayer(( <<<api_provider>>>: TensorFlow Hub",
        "<<<api_call>>>: hub.load('https://tfhub.dev/google/universal-sentence-encoder/4'",
        "import tensorflow_hub as hub\nembed = hub.load('https://tfhub.dev/google/universal-sentence-encoder/4')",
        "<<<domain>>>: Text embedding <<<api_provider>>>: TensorFlow Hub",
    ],
    "torchhub": [
        "",
        "{'domain': 'Classification', 'api_call': 'torch.hub.load(((', 'api_provider': 'PyTorch'}",
        "model = torch.hub.load('pytorch/vision', 'resnet50', pretrained=True)",
        "{'api_call': \"torch.hub.load(repo_or_dir='pytorch/vision', model='resnet50'\", 'api_provider': 'PyTorch'}",
        "{'domain': 'x', 'api_call': 'tørch.hub.løad(\"ü\")', 'api_provider': 'PyTorch'}",
    ],
}


def read_jsonl(path):
    with open(ROOT / path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def answer(record):
    """The reference answer in the eval set's record (what a fine-tuned model would print)."""
    return record["code"].split("###Output:", 1)[1].strip()


def invented_answer(hub, call):
    if hub == "torchhub":
        return f"{{'domain': 'Classification', 'api_call': \"model = {call}\", 'api_provider': 'PyTorch', 'explanation': 'Load the model.'}}"
    return f"<<<domain>>>: Classification, <<<api_call>>>: {call}, <<<api_provider>>>: {hub}, <<<explanation>>>: Load the model."


def hub_responses(hub, eval_file, questions_file, reference_count, swapped_count):
    records = read_jsonl(f"data/apibench/{eval_file}")
    question_ids = [q["question_id"] for q in read_jsonl(f"data/apibench/{questions_file}")]
    responses = []
    stride = max(1, len(question_ids) // (reference_count + swapped_count))
    picked = question_ids[::stride][: reference_count + swapped_count]
    for qid in picked[:reference_count]:
        responses.append({"kind": "reference", "question_id": qid, "text": answer(records[qid - 1])})
    for n, qid in enumerate(picked[reference_count:]):
        domain = records[qid - 1]["api_data"]["domain"]
        # The next question (cyclically, from a far offset) whose API is in another domain.
        other = next(
            o for o in question_ids[(n * 37 + len(question_ids) // 2) :] + question_ids
            if records[o - 1]["api_data"]["domain"] != domain
        )
        responses.append({"kind": "swapped", "question_id": qid, "text": answer(records[other - 1]), "answer_of": other})
    for n, call in enumerate(INVENTED_CALLS[hub]):
        responses.append({"kind": "invented", "question_id": question_ids[n * 5], "text": invented_answer(hub, call)})
    for n, text in enumerate(MALFORMED[hub]):
        responses.append({"kind": "malformed", "question_id": question_ids[n * 7 + 1], "text": text})
    for n, response in enumerate(responses):
        response["id"] = f"{hub}-{response['kind']}-{n}"
        response["hub"] = hub
    return responses


def main():
    responses = []
    counts = {"huggingface": (16, 10), "tensorflowhub": (16, 10), "torchhub": (14, 8)}
    for hub, (eval_file, questions_file) in HUBS.items():
        responses.extend(hub_responses(hub, eval_file, questions_file, *counts[hub]))
    ordered = [{k: r[k] for k in ("id", "hub", "question_id", "kind", "text") if k in r} for r in responses]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump({"responses": ordered}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(ordered)} responses to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
